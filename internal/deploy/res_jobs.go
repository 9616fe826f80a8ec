package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/jobs"
)

// jobsType deploys jobs (Jobs API 2.2): create, reset (a full replace of
// the settings) and delete. A job's id is its number.
type jobsType struct{}

func (jobsType) group() string                { return "jobs" }
func (jobsType) kind() string                 { return KindJob }
func (jobsType) name(s map[string]any) string { return nameOf(s) }

func (jobsType) of(b *bundle.Bundle) []*bundle.Resource {
	out := make([]*bundle.Resource, 0, len(b.Jobs))
	for k, v := range b.Jobs {
		out = append(out, &bundle.Resource{Type: "jobs", Key: k, Name: nameOf(v.Config), Location: v.Location, Config: v.Config, Permissions: v.Permissions})
	}
	return out
}
func (jobsType) label(key, id string) string {
	return fmt.Sprintf("job %s (id %s)", key, id)
}

func (jobsType) desired(b *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	return jobSettings(b, b.Jobs[r.Key], ids)
}

func (jobsType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	resp, err := d.w.Jobs.Create(ctx, createRequest(req.(*jobs.JobSettings)))
	if err != nil {
		return "", nil, err
	}
	return strconv.FormatInt(resp.JobId, 10), nil, nil
}

func (jobsType) update(ctx context.Context, d *deployer, id string, _, _ map[string]any, req any) (string, any, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return "", nil, fmt.Errorf("failed to read the job id %q in state: %w", id, err)
	}
	return "", nil, d.w.Jobs.Reset(ctx, jobs.ResetJob{JobId: n, NewSettings: *req.(*jobs.JobSettings)})
}

func (jobsType) remove(ctx context.Context, d *deployer, id string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return fmt.Errorf("failed to read the job id %q in state: %w", id, err)
	}
	return d.w.Jobs.Delete(ctx, jobs.DeleteJob{JobId: n})
}

// replaces is false: every job setting can be reset.
func (jobsType) replaces(string, map[string]any, map[string]any) bool { return false }

func (jobsType) read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("failed to parse the job id %q in state: %w", id, err)
	}
	job, err := w.Jobs.GetByJobId(ctx, n)
	if err != nil {
		return nil, err
	}
	if job.Settings == nil {
		return map[string]any{}, nil
	}
	return normalise(job.Settings)
}

// find looks for a job with the name and this deployment's stamp; of
// several (each interrupted deploy made one), the oldest is kept and the
// others are deleted.
func (jobsType) find(ctx context.Context, d *deployer, name string) (string, error) {
	meta := path.Join(d.b.Workspace.StatePath, metadataFile)
	found, err := d.w.Jobs.ListAll(ctx, jobs.ListJobsRequest{Name: name})
	if err != nil {
		return "", err
	}
	var ids []int64
	for _, bj := range found {
		if bj.Settings != nil && bj.Settings.Deployment != nil && bj.Settings.Deployment.MetadataFilePath == meta && bj.Settings.Name == name {
			ids = append(ids, bj.JobId)
		}
	}
	if len(ids) == 0 {
		return "", nil
	}
	sort.Slice(ids, func(i, k int) bool { return ids[i] < ids[k] })
	for _, extra := range ids[1:] {
		if err := d.w.Jobs.Delete(ctx, jobs.DeleteJob{JobId: extra}); err != nil && !isNotFound(err) {
			return "", fmt.Errorf("failed to delete duplicate job %d: %w", extra, err)
		}
	}
	return strconv.FormatInt(ids[0], 10), nil
}

// orphans lists the jobs stamped with this deployment's metadata path,
// by id, with their names: such a job that state does not know can only
// have been created by a deploy interrupted before it recorded the id.
func (jobsType) orphans(ctx context.Context, d *deployer) (map[string]string, error) {
	meta := path.Join(d.b.Workspace.StatePath, metadataFile)
	all, err := d.w.Jobs.ListAll(ctx, jobs.ListJobsRequest{})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, bj := range all {
		if bj.Settings != nil && bj.Settings.Deployment != nil && bj.Settings.Deployment.MetadataFilePath == meta {
			out[strconv.FormatInt(bj.JobId, 10)] = bj.Settings.Name
		}
	}
	return out, nil
}

func (jobsType) objectType() string              { return "jobs" }
func (jobsType) ownerLevel() iam.PermissionLevel { return iam.PermissionLevelIsOwner }
func (jobsType) objectID(id, _ string, _ any) string {
	return "/jobs/" + id
}
func (jobsType) lookupObjectID(_ context.Context, _ *deployer, id string) (string, error) {
	return "/jobs/" + id, nil
}

// unknownBase is the first sentinel id standing for a job not created yet;
// sentinels are swapped back to the reference text after normalisation.
const unknownBase = int64(1) << 62

// jobSettings converts a job's config into the settings to send and their
// normalised JSON form (what state records and plans compare), with the
// bundle's run_as and the deployment stamp applied. ids holds the known ids
// of other resources by address; references to resources without an id
// are rendered as the reference text in the normalised form (and the
// settings are only used when every id is known).
func jobSettings(b *bundle.Bundle, j *bundle.Job, ids map[string]string) (*jobs.JobSettings, map[string]any, error) {
	all := map[string]string{}
	sentinel := map[string]string{}
	for i, r := range refsOf(j.Config) {
		if id, ok := ids[r.addr]; ok {
			all[r.addr] = id
			continue
		}
		if r.field != "id" || !strings.HasPrefix(r.addr, "resources.jobs.") {
			continue // a string field: the reference text decodes as is
		}
		s := strconv.FormatInt(unknownBase+int64(i), 10)
		all[r.addr] = s
		sentinel[s] = r.text()
	}
	cfg := resolveRefs(j.Config, all).(map[string]any)
	applyDefaults("jobs", cfg)
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode job %q: %w", j.Key, err)
	}
	var s jobs.JobSettings
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, nil, fmt.Errorf("failed to read the settings of job %q: %w", j.Key, err)
	}
	if s.RunAs == nil && b.RunAs != nil {
		// The bundle's (or target's) run_as applies to every job that does
		// not name its own, as in the Databricks CLI:
		// https://docs.databricks.com/en/dev-tools/bundles/run-as.html
		s.RunAs = &jobs.JobRunAs{UserName: b.RunAs.UserName, ServicePrincipalName: b.RunAs.ServicePrincipalName}
	}
	s.Deployment = &jobs.JobDeployment{Kind: jobs.JobDeploymentKindBundle, MetadataFilePath: path.Join(b.Workspace.StatePath, metadataFile)}
	s.EditMode = jobs.JobEditModeUiLocked
	s.Format = jobs.FormatMultiTask
	norm, err := normalise(s)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode job %q: %w", j.Key, err)
	}
	if len(sentinel) > 0 {
		norm = unsentinel(norm, sentinel).(map[string]any)
	}
	return &s, norm, nil
}

func createRequest(s *jobs.JobSettings) jobs.CreateJob {
	return jobs.CreateJob{
		AccessControlList:    nil,
		BudgetPolicyId:       s.BudgetPolicyId,
		Continuous:           s.Continuous,
		Deployment:           s.Deployment,
		Description:          s.Description,
		EditMode:             s.EditMode,
		EmailNotifications:   s.EmailNotifications,
		Environments:         s.Environments,
		Format:               s.Format,
		GitSource:            s.GitSource,
		Health:               s.Health,
		JobClusters:          s.JobClusters,
		MaxConcurrentRuns:    s.MaxConcurrentRuns,
		Name:                 s.Name,
		NotificationSettings: s.NotificationSettings,
		Parameters:           s.Parameters,
		PerformanceTarget:    s.PerformanceTarget,
		Queue:                s.Queue,
		RunAs:                s.RunAs,
		Schedule:             s.Schedule,
		Tags:                 s.Tags,
		Tasks:                s.Tasks,
		TimeoutSeconds:       s.TimeoutSeconds,
		Trigger:              s.Trigger,
		UsagePolicyId:        s.UsagePolicyId,
		WebhookNotifications: s.WebhookNotifications,
		ForceSendFields:      s.ForceSendFields,
	}
}
