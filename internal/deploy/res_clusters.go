package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/throttle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/compute"
	"github.com/databricks/databricks-sdk-go/service/iam"
)

// clusterWaitTimeout bounds the wait for a cluster that is starting,
// restarting or resizing before it can be edited.
const clusterWaitTimeout = 30 * time.Minute

// clustersType deploys all-purpose clusters (Clusters API 2.1). A
// cluster's id is its cluster_id. Every setting is updated in place with
// clusters/edit, which replaces the whole specification (a running
// cluster restarts with it); no setting forces a re-create, as with the
// Databricks CLI. A cluster that is starting or restarting cannot be
// edited yet: the edit waits until it runs or is terminated. Removing it
// from the bundle deletes it permanently.
//
// A new cluster starts, as every cluster does when it is created, and the
// deploy does not wait for it to run: a job or a notebook that uses it
// only needs its id. lifecycle.started is not applied: a cluster is
// neither started nor terminated to match it (the Databricks CLI's direct
// engine waits for a new cluster to run and starts or terminates one to
// match lifecycle.started).
type clustersType struct{}

func (clustersType) group() string { return "clusters" }
func (clustersType) kind() string  { return "cluster" }
func (clustersType) of(b *bundle.Bundle) []*bundle.Resource {
	return ofType(b, "clusters")
}
func (clustersType) label(key, id string) string {
	return fmt.Sprintf("cluster %s (id %s)", key, id)
}
func (clustersType) name(s map[string]any) string {
	name, _ := s["cluster_name"].(string)
	return name
}

// withDefaults returns r with its references to known ids resolved and the
// Databricks CLI's defaults of its type applied to a copy of its settings.
func withDefaults(r *bundle.Resource, ids map[string]string) *bundle.Resource {
	cfg, _ := resolveRefs(r.Config, ids).(map[string]any)
	if cfg == nil {
		cfg = map[string]any{}
	}
	applyDefaults(r.Type, cfg)
	c := *r
	c.Config = cfg
	return &c
}

func (clustersType) desired(_ *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	req, norm, err := settingsOf[compute.ClusterSpec](withDefaults(r, ids), ids, "cluster")
	if err == nil && req.SparkVersion == "" {
		err = fmt.Errorf("cluster %q has no Databricks Runtime version; set resources.clusters.%s.spark_version", r.Key, r.Key)
	}
	return req, norm, err
}

// workersSent makes num_workers part of a request that names neither it
// nor autoscale: one of them is required, and 0 is a valid size.
func workersSent(spec *compute.ClusterSpec, force []string) []string {
	if spec.Autoscale == nil && spec.NumWorkers == 0 {
		return append(force, "NumWorkers")
	}
	return force
}

func (clustersType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	spec := req.(*compute.ClusterSpec)
	var c compute.CreateCluster
	if err := convert(spec, &c); err != nil {
		return "", nil, err
	}
	c.ForceSendFields = workersSent(spec, c.ForceSendFields)
	wait, err := d.w.Clusters.Create(ctx, c)
	if err != nil {
		return "", nil, err
	}
	return wait.ClusterId, nil, nil
}

func (clustersType) update(ctx context.Context, d *deployer, id string, _, _ map[string]any, req any) (string, any, error) {
	spec := req.(*compute.ClusterSpec)
	var e compute.EditCluster
	if err := convert(spec, &e); err != nil {
		return "", nil, err
	}
	e.ClusterId = id
	e.ForceSendFields = workersSent(spec, e.ForceSendFields)
	deadline := time.Now().Add(clusterWaitTimeout)
	pause := 100 * time.Millisecond
	waited := false
	for {
		_, err := d.w.Clusters.Edit(ctx, e)
		var apiErr *apierr.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode != "INVALID_STATE" {
			return "", nil, clusterErr(err)
		}
		// Only a running or terminated cluster can be edited: wait for
		// one starting, restarting or resizing to get there.
		if time.Now().After(deadline) {
			return "", nil, fmt.Errorf("cluster %s could not be edited for %s: %w", id, clusterWaitTimeout, err)
		}
		if !waited {
			d.progress("cluster %s is starting or resizing; waiting to edit it", id)
			waited = true
		}
		if err := throttle.Sleep(ctx, pause); err != nil {
			return "", nil, err
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// clusterErr makes the Clusters API's answer for an unknown cluster (400
// INVALID_PARAMETER_VALUE "Cluster <id> does not exist", which the SDK
// maps to a not-found error for clusters/get only) a not-found error.
func clusterErr(err error) error {
	var apiErr *apierr.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == "INVALID_PARAMETER_VALUE" && strings.Contains(apiErr.Message, "does not exist") {
		return fmt.Errorf("%w: %w", apierr.ErrNotFound, err)
	}
	return err
}

func (clustersType) remove(ctx context.Context, d *deployer, id string) error {
	return clusterErr(d.w.Clusters.PermanentDeleteByClusterId(ctx, id))
}

// replaces is false: clusters/edit changes every setting.
func (clustersType) replaces(string, map[string]any, map[string]any) bool { return false }

// read returns the settings the cluster was created or last edited with
// (the spec the get call reports).
func (clustersType) read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error) {
	got, err := w.Clusters.GetByClusterId(ctx, id)
	if err != nil {
		return nil, err
	}
	if got.Spec == nil {
		return map[string]any{}, nil
	}
	return normalise(got.Spec)
}

// find looks for the cluster with the name that the deploying identity
// created; several such clusters are ambiguous, and none is adopted.
func (clustersType) find(ctx context.Context, d *deployer, name string) (string, error) {
	all, err := d.w.Clusters.ListAll(ctx, compute.ListClustersRequest{})
	if err != nil {
		return "", err
	}
	var ids []string
	for _, c := range all {
		if c.ClusterName == name && c.CreatorUserName == d.opts.User {
			ids = append(ids, c.ClusterId)
		}
	}
	switch len(ids) {
	case 0:
		return "", nil
	case 1:
		return ids[0], nil
	}
	d.progress("warning: %d clusters are called %q (%s); none is adopted, delete those an interrupted deploy left", len(ids), name, strings.Join(ids, ", "))
	return "", nil
}

func (clustersType) objectType() string              { return "clusters" }
func (clustersType) ownerLevel() iam.PermissionLevel { return iam.PermissionLevelCanManage }
func (clustersType) objectID(id, _ string, _ any) string {
	return "/clusters/" + id
}
func (clustersType) lookupObjectID(_ context.Context, _ *deployer, id string) (string, error) {
	return "/clusters/" + id, nil
}
