package workspace

import (
	"context"
	"fmt"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/compute"
	"github.com/databricks/databricks-sdk-go/service/sql"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/diag"
)

// Lookup resolves a variable lookup to an id the way the Databricks CLI
// does, by the object's name.
func Lookup(ctx context.Context, w *databricks.WorkspaceClient, kind, name string) (string, error) {
	switch kind {
	case "cluster":
		c, err := w.Clusters.GetByClusterName(ctx, name)
		if err != nil {
			return "", err
		}
		return c.ClusterId, nil
	case "warehouse":
		e, err := w.Warehouses.GetByName(ctx, name)
		if err != nil {
			return "", err
		}
		return e.Id, nil
	case "cluster_policy":
		p, err := w.ClusterPolicies.GetByName(ctx, name)
		if err != nil {
			return "", err
		}
		return p.PolicyId, nil
	case "instance_pool":
		p, err := w.InstancePools.GetByInstancePoolName(ctx, name)
		if err != nil {
			return "", err
		}
		return p.InstancePoolId, nil
	case "job":
		j, err := w.Jobs.GetBySettingsName(ctx, name)
		if err != nil {
			return "", err
		}
		return fmt.Sprint(j.JobId), nil
	case "pipeline":
		p, err := w.Pipelines.GetByName(ctx, name)
		if err != nil {
			return "", err
		}
		return p.PipelineId, nil
	case "service_principal":
		sp, err := w.ServicePrincipals.GetByDisplayName(ctx, name)
		if err != nil {
			return "", err
		}
		return sp.ApplicationId, nil
	case "query":
		q, err := w.Queries.GetByDisplayName(ctx, name)
		if err != nil {
			return "", err
		}
		return q.Id, nil
	case "alert":
		al, err := w.Alerts.GetByDisplayName(ctx, name)
		if err != nil {
			return "", err
		}
		return al.Id, nil
	}
	return "", fmt.Errorf("lookup kind %q is not supported, valid are %q", kind, []string{"alert", "cluster", "cluster_policy", "instance_pool", "job", "pipeline", "query", "service_principal", "warehouse"})
}

// CheckRefs reports the cluster and warehouse ids a resolved bundle uses
// that do not exist in the workspace (errors), and those it could not check
// (warnings). Each id is asked about once.
func CheckRefs(ctx context.Context, w *databricks.WorkspaceClient, b *bundle.Bundle) diag.List {
	var l diag.List
	checked := map[string]error{}
	for _, r := range b.WorkspaceRefs {
		key := r.Kind + "\x00" + r.ID
		err, done := checked[key]
		if !done {
			switch r.Kind {
			case "cluster":
				_, err = w.Clusters.Get(ctx, compute.GetClusterRequest{ClusterId: r.ID})
			case "warehouse":
				_, err = w.Warehouses.Get(ctx, sql.GetWarehouseRequest{Id: r.ID})
			}
			checked[key] = err
		}
		switch {
		case err == nil:
		case apierr.IsMissing(err):
			l = append(l, diag.Errorf(r.Kind+"-missing", r.Location.File, r.Location.Line, r.Location.Column, "%s %q does not exist in %s; use an existing id or a job cluster", r.Kind, r.ID, w.Config.Host))
		default:
			l = append(l, diag.Warnf(r.Kind+"-missing", r.Location.File, r.Location.Line, r.Location.Column, "could not check %s %q: %v", r.Kind, r.ID, err))
		}
	}
	return l
}
