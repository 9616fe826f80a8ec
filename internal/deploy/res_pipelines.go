package deploy

import (
	"context"
	"fmt"
	"maps"
	"path"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/pipelines"
)

// pipelinesType deploys Lakeflow declarative pipelines. A pipeline's id
// is its pipeline_id; it carries the deployment stamp a job carries, so
// one created by an interrupted deploy is found by name and stamp. An
// update replaces the whole specification (the API's edit); a new storage
// location, or a new connection or gateway of an ingestion pipeline,
// replaces the pipeline, as the Databricks CLI does. The CLI's defaults
// (edition, channel) are set where the bundle leaves them unset, so that a
// deploy by either tool is a no-change deploy for the other.
type pipelinesType struct{}

func (pipelinesType) group() string { return "pipelines" }
func (pipelinesType) kind() string  { return "pipeline" }
func (pipelinesType) of(b *bundle.Bundle) []*bundle.Resource {
	return ofType(b, "pipelines")
}
func (pipelinesType) label(key, id string) string {
	return fmt.Sprintf("pipeline %s (id %s)", key, id)
}
func (pipelinesType) name(s map[string]any) string { return nameOf(s) }

func (pipelinesType) catalogNames(map[string]any) []string { return nil }
func (pipelinesType) catalogUses(cfg map[string]any) []string {
	c, _ := cfg["catalog"].(string)
	s, _ := cfg["schema"].(string)
	if s == "" {
		s, _ = cfg["target"].(string)
	}
	if c == "" || s == "" {
		return nil
	}
	return []string{c + "." + s}
}

func (pipelinesType) desired(b *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	cfg := resolveRefs(r.Config, ids).(map[string]any)
	applyDefaults("pipelines", cfg)
	req, _, err := settingsOf[pipelines.CreatePipeline](&bundle.Resource{Type: r.Type, Key: r.Key, Config: cfg}, nil, "pipeline")
	if err != nil {
		return nil, nil, err
	}
	if req.Name == "" {
		return nil, nil, errNoName("pipeline", r.Type, r.Key)
	}
	req.Deployment = &pipelines.PipelineDeployment{Kind: pipelines.DeploymentKindBundle, MetadataFilePath: path.Join(b.Workspace.StatePath, metadataFile)}
	norm, err := normalise(req)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode pipeline %q: %w", r.Key, err)
	}
	return req, norm, nil
}

func (pipelinesType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	resp, err := d.w.Pipelines.Create(ctx, *req.(*pipelines.CreatePipeline))
	if err != nil {
		return "", nil, err
	}
	return resp.PipelineId, nil, nil
}

func (pipelinesType) update(ctx context.Context, d *deployer, id string, _, _ map[string]any, req any) (string, any, error) {
	var e pipelines.EditPipeline
	if err := convert(req, &e); err != nil {
		return "", nil, fmt.Errorf("failed to encode the update of pipeline %s: %w", id, err)
	}
	e.PipelineId = id
	return "", nil, d.w.Pipelines.Update(ctx, e)
}

func (pipelinesType) remove(ctx context.Context, d *deployer, id string) error {
	return d.w.Pipelines.DeleteByPipelineId(ctx, id)
}

var pipelineRecreate = []string{
	"storage",
	"ingestion_definition.connection_name", "ingestion_definition.ingestion_gateway_id",
	"gateway_definition.connection_id", "gateway_definition.connection_name",
	"gateway_definition.gateway_storage_catalog", "gateway_definition.gateway_storage_schema",
	"ingestion_definition.ingest_from_uc_foreign_catalog",
}

func (pipelinesType) replaces(_ string, old, norm map[string]any) bool {
	return fieldsDiffer(old, norm, pipelineRecreate)
}

func (pipelinesType) read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error) {
	got, err := w.Pipelines.GetByPipelineId(ctx, id)
	if err != nil {
		return nil, err
	}
	if got.Spec == nil {
		return map[string]any{}, nil
	}
	m, err := normalise(got.Spec)
	if err != nil {
		return nil, err
	}
	// What the create request carries outside the spec comes back beside it.
	extra, err := normalise(pipelines.CreatePipeline{RunAs: got.RunAs, Parameters: got.Parameters})
	if err != nil {
		return nil, err
	}
	maps.Copy(m, extra)
	return m, nil
}

// alignRemote: the flags of the create request alone (allow_duplicate_names,
// dry_run) are never read back.
func (pipelinesType) alignRemote(deployed, remote map[string]any) {
	for _, f := range []string{"allow_duplicate_names", "dry_run"} {
		if v, ok := deployed[f]; ok {
			remote[f] = v
		}
	}
}

// find looks for a pipeline with the name and this deployment's stamp.
func (pipelinesType) find(ctx context.Context, d *deployer, name string) (string, error) {
	meta := path.Join(d.b.Workspace.StatePath, metadataFile)
	all, err := d.w.Pipelines.ListPipelinesAll(ctx, pipelines.ListPipelinesRequest{})
	if err != nil {
		return "", err
	}
	for _, p := range all {
		if p.Name != name {
			continue
		}
		got, err := d.w.Pipelines.GetByPipelineId(ctx, p.PipelineId)
		if err != nil {
			return "", err
		}
		if got.Spec != nil && got.Spec.Deployment != nil && got.Spec.Deployment.MetadataFilePath == meta {
			return p.PipelineId, nil
		}
	}
	return "", nil
}

func (pipelinesType) objectType() string              { return "pipelines" }
func (pipelinesType) ownerLevel() iam.PermissionLevel { return iam.PermissionLevelIsOwner }
func (pipelinesType) objectID(id, _ string, _ any) string {
	return "/pipelines/" + id
}
func (pipelinesType) lookupObjectID(_ context.Context, _ *deployer, id string) (string, error) {
	return "/pipelines/" + id, nil
}
