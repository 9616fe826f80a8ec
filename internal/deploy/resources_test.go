package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/emulator"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/catalog"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/ml"
	"github.com/databricks/databricks-sdk-go/service/pipelines"
	"github.com/google/go-cmp/cmp"
)

// The tests in this file deploy the Unity Catalog, pipeline and MLflow
// resource types end to end against the emulator.

const (
	dataSchema   = "main.demo_data"
	dataVolume   = "main.demo_data.landing"
	pipelineName = "demo-etl"
)

// dataBundle is a bundle with a schema and a volume in it, both with
// grants, a pipeline publishing to the schema with permissions, a job
// running the pipeline and a job running that job.
func dataBundle(dir string) *bundle.Bundle {
	b := demoBundle(dir)
	b.Jobs = map[string]*bundle.Job{
		"refresh": {Key: "refresh", Config: map[string]any{
			"name": "refresh",
			"tasks": []any{map[string]any{
				"task_key":      "refresh",
				"pipeline_task": map[string]any{"pipeline_id": "${resources.pipelines.etl.id}"},
			}},
		}},
		"orchestrate": {Key: "orchestrate", Config: map[string]any{
			"name": "orchestrate",
			"tasks": []any{map[string]any{
				"task_key":     "run_refresh",
				"run_job_task": map[string]any{"job_id": "${resources.jobs.refresh.id}"},
			}},
		}},
	}
	b.Resources = []bundle.Resource{
		{Type: "pipelines", Key: "etl", Name: pipelineName, Config: map[string]any{
			"name":    pipelineName,
			"catalog": "main",
			"schema":  "demo_data",
			"libraries": []any{
				map[string]any{"notebook": map[string]any{"path": testRoot + "/files/notebooks/train"}},
				map[string]any{"file": map[string]any{"path": testRoot + "/files/src/rag/util.py"}},
			},
		}, Permissions: []bundle.Permission{{Level: "CAN_VIEW", GroupName: "users"}}},
		{Type: "schemas", Key: "data", Name: "demo_data", Config: map[string]any{
			"catalog_name": "main",
			"name":         "demo_data",
			"comment":      "raw data",
		}, Grants: []bundle.Grant{
			{Principal: "data-engineers", Privileges: []string{"USE_SCHEMA", "CREATE_TABLE"}},
			{Principal: "analysts", Privileges: []string{"USE_SCHEMA"}},
		}},
		{Type: "volumes", Key: "landing", Name: "landing", Config: map[string]any{
			"catalog_name": "main",
			"schema_name":  "demo_data",
			"name":         "landing",
			"comment":      "files as they arrive",
		}, Grants: []bundle.Grant{
			{Principal: "data-engineers", Privileges: []string{"WRITE_VOLUME", "READ_VOLUME"}},
		}},
	}
	return b
}

// resourceOf returns the bundle's resource of a type and key.
func resourceOf(t testing.TB, b *bundle.Bundle, group, key string) *bundle.Resource {
	t.Helper()
	for i := range b.Resources {
		if b.Resources[i].Type == group && b.Resources[i].Key == key {
			return &b.Resources[i]
		}
	}
	t.Fatalf("the bundle has no %s.%s", group, key)
	return nil
}

// dropResource removes a resource from the bundle.
func dropResource(b *bundle.Bundle, group, key string) {
	b.Resources = slices.DeleteFunc(b.Resources, func(r bundle.Resource) bool { return r.Type == group && r.Key == key })
}

// writes returns the requests that are not reads.
func writes(reqs []emulator.Request) []string {
	var out []string
	for _, r := range reqs {
		if r.Method != http.MethodGet {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// firstIndex returns the index of the first request with method whose
// path ends in suffix, or -1.
func firstIndex(reqs []emulator.Request, method, suffix string) int {
	return slices.IndexFunc(reqs, func(r emulator.Request) bool {
		return r.Method == method && strings.HasSuffix(r.Path, suffix) && r.Status < 300
	})
}

// stateEntries reads resources.json from the workspace.
func stateEntries(t testing.TB, srv *emulator.Server) (ResourcesState, []byte) {
	t.Helper()
	data, ok := srv.Files(testToken)[strings.TrimPrefix(testRoot, "/Workspace")+"/state/"+resourcesFile]
	if !ok {
		t.Fatal("resources.json not written")
	}
	var rs ResourcesState
	if err := decodeJSON(data, &rs); err != nil {
		t.Fatal(err)
	}
	return rs, data
}

// recordedState returns the entries of resources.json, none when the file
// does not exist (before a first deploy, after a destroy).
func recordedState(t testing.TB, srv *emulator.Server) map[string]ResourceEntry {
	t.Helper()
	if _, ok := srv.Files(testToken)[strings.TrimPrefix(testRoot, "/Workspace")+"/state/"+resourcesFile]; !ok {
		return nil
	}
	rs, _ := stateEntries(t, srv)
	return rs.State
}

// grantsOf returns principal → privileges of one securable in the
// emulator, keyed as Server.Grants keys them.
func grantsOf(srv *emulator.Server, key string) map[string][]string {
	out := map[string][]string{}
	for _, a := range srv.Grants(testToken)[key] {
		for _, p := range a.Privileges {
			out[a.Principal] = append(out[a.Principal], string(p))
		}
	}
	return out
}

// planOf plans b against the workspace and returns the change of one
// resource.
func planOf(t *testing.T, w *databricks.WorkspaceClient, b *bundle.Bundle, files []localFile, kind, key string) ResourceChange {
	t.Helper()
	plan, err := planLocal(context.Background(), w, b, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range plan.Resources {
		if r.Kind == kind && r.Key == key {
			return r
		}
	}
	t.Fatalf("the plan has no %s %s: %+v", kind, key, plan.Resources)
	return ResourceChange{}
}

// onlyPipelineID returns the id of the one pipeline in the emulator.
func onlyPipelineID(t *testing.T, srv *emulator.Server) string {
	t.Helper()
	ps := srv.Pipelines(testToken)
	if len(ps) != 1 {
		t.Fatalf("%d pipelines exist, want 1: %v", len(ps), slices.Collect(maps.Keys(ps)))
	}
	for id := range ps {
		return id
	}
	return ""
}

// TestDataBundleLifecycle deploys schemas, volumes, a pipeline and jobs
// using it, redeploys unchanged, updates in place, replaces a volume,
// revokes a grant, drops a resource and destroys the bundle.
func TestDataBundleLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	b, _, files := checkoutOf(t, dataBundle)

	first, err := applyFiles(ctx, w, b, files(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	schemaAt, volumeAt := firstIndex(reqs, http.MethodPost, "/unity-catalog/schemas"), firstIndex(reqs, http.MethodPost, "/unity-catalog/volumes")
	pipelineAt, jobAt := firstIndex(reqs, http.MethodPost, "/api/2.0/pipelines"), firstIndex(reqs, http.MethodPost, "/jobs/create")
	if schemaAt < 0 || volumeAt < schemaAt {
		t.Errorf("volume created at request %d, its schema at %d: want the schema first", volumeAt, schemaAt)
	}
	if pipelineAt < schemaAt {
		t.Errorf("pipeline created at request %d, its schema at %d: want the schema first", pipelineAt, schemaAt)
	}
	if jobAt < pipelineAt {
		t.Errorf("job created at request %d, the pipeline it runs at %d: want the pipeline first", jobAt, pipelineAt)
	}
	pipelineID := onlyPipelineID(t, srv)
	refreshJob := srv.Jobs(testToken)[first.JobIDs["refresh"]]
	if len(refreshJob.Tasks) != 1 || refreshJob.Tasks[0].PipelineTask == nil || refreshJob.Tasks[0].PipelineTask.PipelineId != pipelineID {
		t.Errorf("job refresh runs %+v, want pipeline %s", refreshJob.Tasks, pipelineID)
	}
	if got := srv.Jobs(testToken)[first.JobIDs["orchestrate"]].Tasks[0].RunJobTask.JobId; got != first.JobIDs["refresh"] {
		t.Errorf("job orchestrate runs job %d, want refresh's id %d", got, first.JobIDs["refresh"])
	}
	spec := srv.Pipelines(testToken)[pipelineID]
	if spec.Catalog != "main" || spec.Schema != "demo_data" || len(spec.Libraries) != 2 || spec.Deployment == nil || spec.Deployment.MetadataFilePath != testRoot+"/state/metadata.json" {
		t.Errorf("pipeline spec %+v", spec)
	}
	if _, ok := srv.Schemas(testToken)[dataSchema]; !ok {
		t.Errorf("schema %s not created", dataSchema)
	}
	if v, ok := srv.Volumes(testToken)[dataVolume]; !ok || v.VolumeType != catalog.VolumeTypeManaged || v.Comment != "files as they arrive" {
		t.Errorf("volume %s: %+v", dataVolume, v)
	}
	wantSchemaGrants := map[string][]string{"analysts": {"USE_SCHEMA"}, "data-engineers": {"CREATE_TABLE", "USE_SCHEMA"}}
	if diff := cmp.Diff(wantSchemaGrants, grantsOf(srv, "SCHEMA/"+dataSchema)); diff != "" {
		t.Errorf("schema grants (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]string{"data-engineers": {"READ_VOLUME", "WRITE_VOLUME"}}, grantsOf(srv, "VOLUME/"+dataVolume)); diff != "" {
		t.Errorf("volume grants (-want +got):\n%s", diff)
	}
	acl := srv.Permissions(testToken)["pipelines/"+pipelineID]
	levels := map[string]string{}
	for _, a := range acl {
		for _, p := range a.AllPermissions {
			if !p.Inherited {
				levels[a.UserName+a.GroupName+a.ServicePrincipalName] = string(p.PermissionLevel)
			}
		}
	}
	if diff := cmp.Diff(map[string]string{testUser: "IS_OWNER", "users": "CAN_VIEW"}, levels); diff != "" {
		t.Errorf("pipeline permissions (-want +got):\n%s", diff)
	}
	rs, raw := stateEntries(t, srv)
	for _, a := range []string{"resources.schemas.data", "resources.schemas.data.grants", "resources.volumes.landing", "resources.volumes.landing.grants",
		"resources.pipelines.etl", "resources.pipelines.etl.permissions", "resources.jobs.refresh", "resources.jobs.orchestrate"} {
		if e, ok := rs.State[a]; !ok || e.ID == "" || len(e.State) == 0 {
			t.Errorf("state has no entry %s with an id and state: %+v", a, e)
		}
	}
	if len(rs.Pending) > 0 {
		t.Errorf("pending creates left in state: %v", rs.Pending)
	}
	for a, e := range rs.State {
		if data, _ := json.Marshal(e.State); strings.Contains(string(data), "${") {
			t.Errorf("%s: a reference is left unresolved in the state: %s", a, data)
		}
	}
	golden(t, "contract/resources_data.json", strings.ReplaceAll(normaliseIDs(string(raw), first.JobIDs), pipelineID, "<id:etl>"))

	// Unchanged: no write at all.
	before := len(srv.Requests())
	second, err := applyFiles(ctx, w, b, files(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	reqs = requestsSince(srv, before)
	if got := writes(reqs); len(got) != 0 || second.Changed {
		t.Errorf("no-change deploy changed %v and sent writes %v", second.Changed, got)
	}
	t.Logf("no-change deploy of the data bundle: %d requests", len(reqs))

	// A new comment updates the schema and the volume in place.
	resourceOf(t, b, "schemas", "data").Config["comment"] = "raw data, kept 30 days"
	resourceOf(t, b, "volumes", "landing").Config["comment"] = "landing zone"
	for _, key := range []string{"data", "landing"} {
		kind := map[string]string{"data": "schema", "landing": "volume"}[key]
		if rc := planOf(t, w, b, files(), kind, key); rc.Action != Update || rc.Replace {
			t.Errorf("%s %s: planned %s, want an update in place", kind, key, rc.verb())
		}
	}
	before = len(srv.Requests())
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	reqs = requestsSince(srv, before)
	if n := countMatching(reqs, http.MethodDelete, "/unity-catalog/") + countMatching(reqs, http.MethodPost, "/unity-catalog/"); n != 0 {
		t.Errorf("an update in place deleted or created %d Unity Catalog objects: %v", n, writes(reqs))
	}
	if got := srv.Schemas(testToken)[dataSchema].Comment; got != "raw data, kept 30 days" {
		t.Errorf("schema comment %q", got)
	}
	if got := srv.Volumes(testToken)[dataVolume].Comment; got != "landing zone" {
		t.Errorf("volume comment %q", got)
	}

	// A new volume type replaces the volume; its grants are set again.
	vol := resourceOf(t, b, "volumes", "landing")
	vol.Config["volume_type"] = "EXTERNAL"
	vol.Config["storage_location"] = "s3://landing-bucket/demo"
	if rc := planOf(t, w, b, files(), "volume", "landing"); rc.verb() != "replace" {
		t.Errorf("a new volume type plans %s, want replace", rc.verb())
	}
	before = len(srv.Requests())
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	reqs = requestsSince(srv, before)
	if del, create := countMatching(reqs, http.MethodDelete, "/unity-catalog/volumes/"), countMatching(reqs, http.MethodPost, "/unity-catalog/volumes"); del != 1 || create != 1 {
		t.Errorf("replace sent %d deletes and %d creates of the volume, want 1 and 1", del, create)
	}
	if v := srv.Volumes(testToken)[dataVolume]; v.VolumeType != catalog.VolumeTypeExternal || v.StorageLocation != "s3://landing-bucket/demo" {
		t.Errorf("volume after the replace: %+v", v)
	}
	if diff := cmp.Diff(map[string][]string{"data-engineers": {"READ_VOLUME", "WRITE_VOLUME"}}, grantsOf(srv, "VOLUME/"+dataVolume)); diff != "" {
		t.Errorf("grants of the replaced volume (-want +got):\n%s", diff)
	}
	// So does a new storage location.
	vol.Config["storage_location"] = "s3://landing-bucket/demo2"
	if rc := planOf(t, w, b, files(), "volume", "landing"); rc.verb() != "replace" {
		t.Errorf("a new storage location plans %s, want replace", rc.verb())
	}

	// A principal dropped from the bundle loses its privileges; one given
	// privileges in the workspace keeps them.
	if _, err := w.Grants.Update(ctx, catalog.UpdatePermissions{SecurableType: "schema", FullName: dataSchema, Changes: []catalog.PermissionsChange{
		{Principal: "auditors", Add: []catalog.Privilege{catalog.PrivilegeUseSchema}},
	}}); err != nil {
		t.Fatal(err)
	}
	schema := resourceOf(t, b, "schemas", "data")
	schema.Grants = schema.Grants[:1]
	if rc := planOf(t, w, b, files(), "schema", "data"); rc.Action != Update || len(rc.Fields) != 1 || rc.Fields[0].Path != "grants" {
		t.Errorf("a dropped grant plans %+v, want an update of grants", rc)
	}
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"auditors": {"USE_SCHEMA"}, "data-engineers": {"CREATE_TABLE", "USE_SCHEMA"}}
	if diff := cmp.Diff(want, grantsOf(srv, "SCHEMA/"+dataSchema)); diff != "" {
		t.Errorf("schema grants after dropping analysts (-want +got):\n%s", diff)
	}

	// A resource dropped from the bundle is deleted.
	dropResource(b, "volumes", "landing")
	if rc := planOf(t, w, b, files(), "volume", "landing"); rc.Action != Delete {
		t.Errorf("a dropped volume plans %s, want delete", rc.Action)
	}
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Volumes(testToken)[dataVolume]; ok {
		t.Error("the volume dropped from the bundle still exists")
	}
	if rs, _ := stateEntries(t, srv); rs.State["resources.volumes.landing"].ID != "" || rs.State["resources.volumes.landing.grants"].ID != "" {
		t.Error("state still records the dropped volume or its grants")
	}

	// Grants removed from the bundle altogether are revoked, and no
	// longer recorded.
	schema.Grants = nil
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]string{"auditors": {"USE_SCHEMA"}}, grantsOf(srv, "SCHEMA/"+dataSchema)); diff != "" {
		t.Errorf("schema grants after removing them from the bundle (-want +got):\n%s", diff)
	}
	if rs, _ := stateEntries(t, srv); rs.State["resources.schemas.data.grants"].ID != "" {
		t.Error("state still records the schema's grants")
	}

	if err := Destroy(ctx, w, b, testOptions()); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Pipelines(testToken)) + len(srv.Jobs(testToken)) + len(srv.Volumes(testToken)); n != 0 {
		t.Errorf("destroy left %d pipelines, jobs and volumes", n)
	}
	if _, ok := srv.Schemas(testToken)[dataSchema]; ok {
		t.Error("destroy left the schema")
	}
	if g := srv.Grants(testToken); len(g) != 0 {
		t.Errorf("destroy left grants: %v", g)
	}
}

const (
	mlSchema      = "ml.staging"
	mlModel       = "ml.staging.chatbot"
	mlTable       = "ml.staging.inference"
	experimentDir = "/Workspace/Users/me@example.com/experiments/demo"
	experimentAt  = experimentDir + "/chatbot"
)

// mlopsBundle is a bundle with an MLflow experiment with permissions in a
// folder that does not exist yet, a workspace model registry model, a
// Unity Catalog registered model with grants in a seeded schema, a
// serving endpoint serving that model and a quality monitor on a seeded
// table; mlopsServer seeds the schema and the table.
func mlopsBundle(dir string) *bundle.Bundle {
	b := demoBundle(dir)
	b.Jobs = map[string]*bundle.Job{}
	b.ServingEndpoints = map[string]*bundle.ServingEndpoint{
		"chat": {Key: "chat", Config: map[string]any{
			"name": endpointName,
			"config": map[string]any{
				"served_entities": []any{map[string]any{
					"entity_name":           mlModel,
					"entity_version":        "1",
					"workload_size":         "Small",
					"scale_to_zero_enabled": true,
				}},
			},
		}, Permissions: []bundle.Permission{{Level: "CAN_QUERY", GroupName: "users"}}},
	}
	b.Resources = []bundle.Resource{
		{Type: "experiments", Key: "chatbot", Name: experimentAt, Config: map[string]any{
			"name": experimentAt,
			"tags": []any{map[string]any{"key": "team", "value": "ml"}},
		}, Permissions: []bundle.Permission{{Level: "CAN_READ", GroupName: "users"}}},
		{Type: "models", Key: "legacy", Name: "demo-legacy-model", Config: map[string]any{
			"name":        "demo-legacy-model",
			"description": "the model before Unity Catalog",
		}, Permissions: []bundle.Permission{{Level: "CAN_READ", GroupName: "users"}}},
		{Type: "registered_models", Key: "chatbot", Name: "chatbot", Config: map[string]any{
			"catalog_name": "ml",
			"schema_name":  "staging",
			"name":         "chatbot",
			"comment":      "answers questions",
		}, Grants: []bundle.Grant{{Principal: "ml-engineers", Privileges: []string{"EXECUTE"}}}},
		{Type: "quality_monitors", Key: "inference", Name: mlTable, Config: map[string]any{
			"table_name":         mlTable,
			"assets_dir":         "/Workspace/Users/me@example.com/monitors/inference",
			"output_schema_name": mlSchema,
			"snapshot":           map[string]any{},
			"schedule":           map[string]any{"quartz_cron_expression": "0 0 * * * ?", "timezone_id": "UTC"},
			"warehouse_id":       "4e8a9c0f1a2b3c4d",
		}},
	}
	return b
}

// mlopsServer is newServer with the schema and table mlopsBundle uses.
func mlopsServer(t testing.TB, wrap func(http.RoundTripper) http.RoundTripper) (*emulator.Server, *databricks.WorkspaceClient) {
	t.Helper()
	srv, w := newServer(t, wrap)
	if err := srv.Seed(testToken, emulator.Seed{Tables: []string{mlTable}}); err != nil {
		t.Fatal(err)
	}
	return srv, w
}

// TestMLOpsBundleLifecycle deploys an experiment, models, a serving
// endpoint serving the registered model and a quality monitor, redeploys
// unchanged, finds changes made in the workspace with a refresh and puts
// them back, replaces the experiment and the monitor, and destroys it all.
func TestMLOpsBundleLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := mlopsServer(t, nil)
	b, _, files := checkoutOf(t, mlopsBundle)

	if _, err := applyFiles(ctx, w, b, files(), fastOptions()); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	modelAt, endpointAt := firstIndex(reqs, http.MethodPost, "/unity-catalog/models"), firstIndex(reqs, http.MethodPost, "/serving-endpoints")
	if modelAt < 0 || endpointAt < modelAt {
		t.Errorf("serving endpoint created at request %d, the registered model it serves at %d: want the model first", endpointAt, modelAt)
	}
	exp, ok := srv.Experiments(testToken)[strings.TrimPrefix(experimentAt, "/Workspace")]
	if !ok || exp.LifecycleStage != "active" {
		t.Fatalf("experiment %s not created: %v", experimentAt, slices.Collect(maps.Keys(srv.Experiments(testToken))))
	}
	if o := srv.Objects(testToken)[strings.TrimPrefix(experimentDir, "/Workspace")]; o.Type != "DIRECTORY" {
		t.Errorf("the experiment's folder is %+v, want a directory", o)
	}
	if !slices.ContainsFunc(srv.Permissions(testToken)["experiments/"+exp.ExperimentId], func(a iamACL) bool { return a.GroupName == "users" }) {
		t.Errorf("experiment permissions %+v lack the group users", srv.Permissions(testToken)["experiments/"+exp.ExperimentId])
	}
	if m, ok := srv.Models(testToken)["demo-legacy-model"]; !ok || m.Description != "the model before Unity Catalog" || !slices.ContainsFunc(srv.Permissions(testToken)["registered-models/"+m.Id], func(a iamACL) bool { return a.GroupName == "users" }) {
		t.Errorf("workspace model %+v, permissions %v", m, srv.Permissions(testToken))
	}
	if diff := cmp.Diff(map[string][]string{"ml-engineers": {"EXECUTE"}}, grantsOf(srv, "FUNCTION/"+mlModel)); diff != "" {
		t.Errorf("registered model grants (-want +got):\n%s", diff)
	}
	mon, ok := srv.Monitors(testToken)[mlTable]
	if !ok || mon.OutputSchemaName != mlSchema || mon.Schedule == nil || mon.Schedule.QuartzCronExpression != "0 0 * * * ?" {
		t.Errorf("quality monitor %+v", mon)
	}
	ep, ok := srv.Endpoints(testToken)[endpointName]
	if !ok {
		t.Error("serving endpoint not created")
	}
	_, raw := stateEntries(t, srv)
	golden(t, "contract/resources_mlops.json", labelIDs(string(raw), map[string]string{
		exp.ExperimentId: "<id:experiment>", srv.Models(testToken)["demo-legacy-model"].Id: "<id:model>", ep.Id: "<id:endpoint>",
	}))

	before := len(srv.Requests())
	second, err := applyFiles(ctx, w, b, files(), fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	reqs = requestsSince(srv, before)
	if got := writes(reqs); len(got) != 0 || second.Changed {
		t.Errorf("no-change deploy changed %v and sent writes %v", second.Changed, got)
	}
	t.Logf("no-change deploy of the MLOps bundle: %d requests", len(reqs))

	// Changes behind the deploy's back: the registered model's comment
	// and a deleted experiment.
	if _, err := w.RegisteredModels.Update(ctx, catalog.UpdateRegisteredModelRequest{FullName: mlModel, Comment: "edited by hand"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Experiments.DeleteExperiment(ctx, ml.DeleteExperiment{ExperimentId: exp.ExperimentId}); err != nil {
		t.Fatal(err)
	}
	plan, err := planLocal(ctx, w, b, files())
	if err != nil {
		t.Fatal(err)
	}
	if plan.Changed() {
		t.Fatal("a plain plan compares with state only and must not see workspace edits")
	}
	if err := plan.Refresh(ctx, w); err != nil {
		t.Fatal(err)
	}
	drift := map[string]Action{}
	for _, d := range plan.Drift {
		drift[d.Kind+" "+d.Key] = d.Action
	}
	if diff := cmp.Diff(map[string]Action{"experiment chatbot": Missing, "registered_model chatbot": Drifted}, drift); diff != "" {
		t.Errorf("refresh found (-want +got):\n%s\n%s", diff, planText(t, plan))
	}
	opts := fastOptions()
	opts.Refresh = true
	if _, err := applyFiles(ctx, w, b, files(), opts); err != nil {
		t.Fatal(err)
	}
	if got := srv.RegisteredModels(testToken)[mlModel].Comment; got != "answers questions" {
		t.Errorf("registered model comment %q after deploy --refresh", got)
	}
	exps := srv.Experiments(testToken)
	if len(exps) != 1 || exps[exp.Name].ExperimentId != exp.ExperimentId || exps[exp.Name].LifecycleStage != "active" {
		t.Errorf("the deleted experiment was not restored: %+v", exps)
	}
	checkInSync(t, ctx, w, b, files(), "after deploy --refresh the workspace still differs")

	// Fields that cannot be updated replace the resource.
	resourceOf(t, b, "experiments", "chatbot").Config["artifact_location"] = "dbfs:/experiments/chatbot"
	resourceOf(t, b, "quality_monitors", "inference").Config["assets_dir"] = "/Workspace/Users/me@example.com/monitors/inference-v2"
	for _, c := range [][2]string{{"experiment", "chatbot"}, {"quality_monitor", "inference"}} {
		if rc := planOf(t, w, b, files(), c[0], c[1]); rc.verb() != "replace" {
			t.Errorf("%s %s plans %s, want replace", c[0], c[1], rc.verb())
		}
	}
	before = len(srv.Requests())
	if _, err := applyFiles(ctx, w, b, files(), fastOptions()); err != nil {
		t.Fatal(err)
	}
	reqs = requestsSince(srv, before)
	if mon, exp := countMatching(reqs, http.MethodDelete, "/monitor"), countMatching(reqs, http.MethodPost, "/experiments/delete"); mon != 1 || exp == 0 {
		t.Errorf("replace deleted the monitor %d times and the experiment %d times, want 1 and at least 1: %v", mon, exp, writes(reqs))
	}
	if got := srv.Monitors(testToken)[mlTable].AssetsDir; got != "/Workspace/Users/me@example.com/monitors/inference-v2" {
		t.Errorf("monitor assets_dir %q after the replace", got)
	}
	active := 0
	for _, e := range srv.Experiments(testToken) {
		if e.LifecycleStage == "active" {
			active++
			if e.Name != exp.Name || e.ArtifactLocation != "dbfs:/experiments/chatbot" {
				t.Errorf("experiment after the replace: %+v", e)
			}
		}
	}
	if active != 1 {
		t.Errorf("%d active experiments after the replace, want 1", active)
	}
	if again := planOf(t, w, b, files(), "experiment", "chatbot"); again.Action != Unchanged {
		t.Errorf("after the replace the experiment plans %s", again.Action)
	}

	if err := Destroy(ctx, w, b, fastOptions()); err != nil {
		t.Fatal(err)
	}
	for _, e := range srv.Experiments(testToken) {
		if e.LifecycleStage != "deleted" {
			t.Errorf("destroy left experiment %s %s", e.Name, e.LifecycleStage)
		}
	}
	if n := len(srv.Models(testToken)) + len(srv.RegisteredModels(testToken)) + len(srv.Monitors(testToken)) + len(srv.Endpoints(testToken)); n != 0 {
		t.Errorf("destroy left %d models, monitors and endpoints", n)
	}
	if _, ok := srv.Schemas(testToken)[mlSchema]; !ok {
		t.Error("destroy deleted the seeded schema, which the bundle does not define")
	}
}

// TestDeletedExperimentIsRestored deploys an experiment whose name a
// deleted experiment holds: that one is restored, not duplicated, whether
// the create is refused with RESOURCE_ALREADY_EXISTS or, as the API
// reference warns it may be in some contexts, ALREADY_EXISTS.
func TestDeletedExperimentIsRestored(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv, w := mlopsServer(t, func(next http.RoundTripper) http.RoundTripper {
				return &recodeError{next: next, suffix: "/mlflow/experiments/create", from: "RESOURCE_ALREADY_EXISTS", to: code}
			})
			if err := w.Workspace.MkdirsByPath(ctx, experimentDir); err != nil {
				t.Fatal(err)
			}
			created, err := w.Experiments.CreateExperiment(ctx, ml.CreateExperiment{Name: experimentAt})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Experiments.DeleteExperiment(ctx, ml.DeleteExperiment{ExperimentId: created.ExperimentId}); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			writeTree(t, dir, demoFiles)
			b := demoBundle(dir)
			b.Jobs = nil
			b.Resources = mlopsBundle(dir).Resources[:1]
			res, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), testOptions())
			if err != nil {
				t.Fatal(err)
			}
			exps := srv.Experiments(testToken)
			e := exps[strings.TrimPrefix(experimentAt, "/Workspace")]
			if len(exps) != 1 || e.ExperimentId != created.ExperimentId || e.LifecycleStage != "active" {
				t.Errorf("experiments after the deploy: %+v; want experiment %s restored", exps, created.ExperimentId)
			}
			if !slices.ContainsFunc(e.Tags, func(t ml.ExperimentTag) bool { return t.Key == "team" && t.Value == "ml" }) {
				t.Errorf("the restored experiment lacks the bundle's tag: %+v", e.Tags)
			}
			if st := res.Plan.st.resources.State["resources.experiments.chatbot"]; st.ID != created.ExperimentId {
				t.Errorf("state records experiment %q, want %s", st.ID, created.ExperimentId)
			}
		})
	}
}

// recodeError rewrites the error code of failed answers to requests whose
// path ends in suffix.
type recodeError struct {
	next     http.RoundTripper
	suffix   string
	from, to string
}

func (r *recodeError) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 || !strings.HasSuffix(req.URL.Path, r.suffix) {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	body = bytes.ReplaceAll(body, []byte(`"`+r.from+`"`), []byte(`"`+r.to+`"`))
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// labelIDs replaces every id of the given map (id → label) in s.
func labelIDs(s string, labels map[string]string) string {
	ids := slices.Collect(maps.Keys(labels))
	slices.SortFunc(ids, func(a, b string) int { return len(b) - len(a) })
	for _, id := range ids {
		s = regexp.MustCompile(`\b`+regexp.QuoteMeta(id)+`\b`).ReplaceAllString(s, labels[id])
	}
	return s
}

// planText renders a plan as text.
func planText(t *testing.T, p *PlanResult) string {
	t.Helper()
	var buf bytes.Buffer
	if err := p.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// checkInSync plans b against the workspace with a refresh, reports any
// difference it finds (saying why it expected none) and returns the plan.
func checkInSync(t *testing.T, ctx context.Context, w *databricks.WorkspaceClient, b *bundle.Bundle, files []localFile, why string) *PlanResult {
	t.Helper()
	p, err := planLocal(ctx, w, b, files)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Refresh(ctx, w); err != nil {
		t.Fatal(err)
	}
	if p.Changed() {
		t.Errorf("%s:\n%s", why, planText(t, p))
	}
	return p
}

type iamACL = iam.AccessControlResponse

// TestDataBundleRefresh changes a schema's comment, deletes the volume and
// deletes the pipeline in the workspace: a refresh reports all three and
// deploy --refresh puts them back, the job running the pipeline then
// running the new one.
func TestDataBundleRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	b, _, files := checkoutOf(t, dataBundle)
	first, err := applyFiles(ctx, w, b, files(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	oldPipeline := onlyPipelineID(t, srv)
	if _, err := w.Schemas.Update(ctx, catalog.UpdateSchema{FullName: dataSchema, Comment: "edited by hand"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Volumes.DeleteByName(ctx, dataVolume); err != nil {
		t.Fatal(err)
	}
	if err := w.Pipelines.DeleteByPipelineId(ctx, oldPipeline); err != nil {
		t.Fatal(err)
	}
	plan, err := planLocal(ctx, w, b, files())
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Refresh(ctx, w); err != nil {
		t.Fatal(err)
	}
	drift := map[string]Action{}
	for _, d := range plan.Drift {
		drift[d.Kind+" "+d.Key] = d.Action
	}
	want := map[string]Action{"schema data": Drifted, "volume landing": Missing, "pipeline etl": Missing}
	if diff := cmp.Diff(want, drift); diff != "" {
		t.Errorf("refresh found (-want +got):\n%s\n%s", diff, planText(t, plan))
	}
	opts := testOptions()
	opts.Refresh = true
	if _, err := applyFiles(ctx, w, b, files(), opts); err != nil {
		t.Fatal(err)
	}
	if got := srv.Schemas(testToken)[dataSchema].Comment; got != "raw data" {
		t.Errorf("schema comment %q after deploy --refresh", got)
	}
	if _, ok := srv.Volumes(testToken)[dataVolume]; !ok {
		t.Error("the deleted volume was not created again")
	}
	if diff := cmp.Diff(map[string][]string{"data-engineers": {"READ_VOLUME", "WRITE_VOLUME"}}, grantsOf(srv, "VOLUME/"+dataVolume)); diff != "" {
		t.Errorf("grants of the volume created again (-want +got):\n%s", diff)
	}
	newPipeline := onlyPipelineID(t, srv)
	if newPipeline == oldPipeline {
		t.Fatal("the deleted pipeline was not created again")
	}
	if _, ok := srv.Permissions(testToken)["pipelines/"+newPipeline]; !ok {
		t.Error("the pipeline created again has no permissions")
	}
	if got := srv.Jobs(testToken)[first.JobIDs["refresh"]].Tasks[0].PipelineTask.PipelineId; got != newPipeline {
		t.Errorf("job refresh runs pipeline %s, want the new %s", got, newPipeline)
	}
	checkInSync(t, ctx, w, b, files(), "after deploy --refresh the workspace still differs")
}

// TestUnityCatalogNamesIgnoreCase deploys a schema and a volume whose
// names the bundle spells in mixed case, which Unity Catalog stores in
// lower case: the volume still comes after its schema, a new comment is
// an update in place and a refresh finds nothing changed.
func TestUnityCatalogNamesIgnoreCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	b, _, files := checkoutOf(t, dataBundle)
	b.Jobs = nil
	dropResource(b, "pipelines", "etl")
	schema, vol := resourceOf(t, b, "schemas", "data"), resourceOf(t, b, "volumes", "landing")
	schema.Config["catalog_name"], schema.Config["name"] = "Main", "Demo_Data"
	vol.Config["catalog_name"], vol.Config["schema_name"], vol.Config["name"] = "MAIN", "demo_DATA", "Landing"
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if s, v := firstIndex(reqs, http.MethodPost, "/unity-catalog/schemas"), firstIndex(reqs, http.MethodPost, "/unity-catalog/volumes"); s < 0 || v < s {
		t.Errorf("volume created at request %d, its schema at %d: want the schema first", v, s)
	}
	if _, ok := srv.Volumes(testToken)[dataVolume]; !ok {
		t.Fatalf("volume %s not created: %v", dataVolume, slices.Collect(maps.Keys(srv.Volumes(testToken))))
	}
	checkInSync(t, ctx, w, b, files(), "a refresh right after the deploy finds changes")
	schema.Config["comment"], vol.Config["comment"] = "new", "new"
	for _, c := range [][2]string{{"schema", "data"}, {"volume", "landing"}} {
		if rc := planOf(t, w, b, files(), c[0], c[1]); rc.Action != Update || rc.Replace {
			t.Errorf("%s %s: a new comment plans %s, want an update in place: %+v", c[0], c[1], rc.verb(), rc.Fields)
		}
	}
	before := len(srv.Requests())
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	if n := countMatching(requestsSince(srv, before), http.MethodDelete, "/unity-catalog/"); n != 0 {
		t.Errorf("a new comment deleted %d Unity Catalog objects", n)
	}
	if got := srv.Volumes(testToken)[dataVolume].Comment; got != "new" {
		t.Errorf("volume comment %q", got)
	}
}

// TestReplacedSchemaTakesItsVolumes replaces a schema (a new storage
// root), which deletes what it holds: the bundle's volume in it is created
// again in the same deploy, with its grants, instead of being left
// recorded in state as if it still existed.
func TestReplacedSchemaTakesItsVolumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	b, _, files := checkoutOf(t, dataBundle)
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	resourceOf(t, b, "schemas", "data").Config["storage_root"] = "s3://data-bucket/demo"
	plan, err := planLocal(ctx, w, b, files())
	if err != nil {
		t.Fatal(err)
	}
	text := planText(t, plan)
	for _, want := range []string{"replace schema data", "replace volume landing"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	if s := srv.Schemas(testToken)[dataSchema]; s.StorageRoot != "s3://data-bucket/demo" {
		t.Errorf("schema after the replace: %+v", s)
	}
	if _, ok := srv.Volumes(testToken)[dataVolume]; !ok {
		t.Fatal("the volume in the replaced schema was not created again")
	}
	if diff := cmp.Diff(map[string][]string{"data-engineers": {"READ_VOLUME", "WRITE_VOLUME"}}, grantsOf(srv, "VOLUME/"+dataVolume)); diff != "" {
		t.Errorf("grants of the volume created again (-want +got):\n%s", diff)
	}
	checkInSync(t, ctx, w, b, files(), "after the replace the workspace differs from the bundle")
}

// TestPipelineRefreshReadsWhatTheSpecLacks deploys a pipeline with
// settings its create request carries outside the spec (run_as,
// parameters, allow_duplicate_names): a refresh right after the deploy
// reports no change, and one made in the workspace is reported.
func TestPipelineRefreshReadsWhatTheSpecLacks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, w := newServer(t, nil)
	b, _, files := checkoutOf(t, dataBundle)
	b.Jobs = nil
	p := resourceOf(t, b, "pipelines", "etl")
	p.Config["run_as"] = map[string]any{"service_principal_name": servingSP}
	p.Config["parameters"] = map[string]any{"day": "2026-12-01"}
	p.Config["allow_duplicate_names"] = true
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	plan := checkInSync(t, ctx, w, b, files(), "a refresh right after the deploy finds changes")
	id := plan.Resources[slices.IndexFunc(plan.Resources, func(r ResourceChange) bool { return r.Key == "etl" })].ID
	got, err := w.Pipelines.GetByPipelineId(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var edit pipelines.EditPipeline
	if err := convert(got.Spec, &edit); err != nil {
		t.Fatal(err)
	}
	edit.PipelineId, edit.Parameters = id, map[string]string{"day": "yesterday"}
	if err := w.Pipelines.Update(ctx, edit); err != nil {
		t.Fatal(err)
	}
	if err := plan.Refresh(ctx, w); err != nil {
		t.Fatal(err)
	}
	if len(plan.Drift) != 1 || len(plan.Drift[0].Fields) != 1 || plan.Drift[0].Fields[0].Path != "parameters.day" {
		t.Errorf("a parameter changed in the workspace: drift %+v", plan.Drift)
	}
}

// TestRenamedSchemaKeepsItsVolumes renames a schema in the bundle, and
// with it the schema its volume names: the schema is renamed in place,
// which moves the volume, so the volume is only recorded under its new
// name, not replaced.
func TestRenamedSchemaKeepsItsVolumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	b, _, files := checkoutOf(t, dataBundle)
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	resourceOf(t, b, "schemas", "data").Config["name"] = "curated"
	resourceOf(t, b, "volumes", "landing").Config["schema_name"] = "curated"
	resourceOf(t, b, "pipelines", "etl").Config["schema"] = "curated"
	for _, c := range [][2]string{{"schema", "data"}, {"volume", "landing"}} {
		if rc := planOf(t, w, b, files(), c[0], c[1]); rc.Action != Update || rc.Replace {
			t.Errorf("%s %s: a renamed schema plans %s, want an update in place: %+v", c[0], c[1], rc.verb(), rc.Fields)
		}
	}
	before := len(srv.Requests())
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	if n := countMatching(requestsSince(srv, before), http.MethodDelete, "/unity-catalog/"); n != 0 {
		t.Errorf("renaming the schema deleted %d Unity Catalog objects", n)
	}
	if _, ok := srv.Volumes(testToken)["main.curated.landing"]; !ok {
		t.Errorf("volumes after the rename: %v", slices.Collect(maps.Keys(srv.Volumes(testToken))))
	}
	if diff := cmp.Diff(map[string][]string{"data-engineers": {"READ_VOLUME", "WRITE_VOLUME"}}, grantsOf(srv, "VOLUME/main.curated.landing")); diff != "" {
		t.Errorf("grants of the moved volume (-want +got):\n%s", diff)
	}
	checkInSync(t, ctx, w, b, files(), "after the rename the workspace differs from the bundle")
}

// TestGrantsRefresh revokes a privilege the bundle grants and adds one it
// does not, both in the workspace: a refresh reports the schema's grants as
// drifted, a deploy with --refresh puts them back as the bundle has them,
// and grants to a principal the bundle never named are left alone.
func TestGrantsRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	b, _, files := checkoutOf(t, dataBundle)
	if _, err := applyFiles(ctx, w, b, files(), testOptions()); err != nil {
		t.Fatal(err)
	}
	checkInSync(t, ctx, w, b, files(), "a refresh right after the deploy finds changes")
	if _, err := w.Grants.Update(ctx, catalog.UpdatePermissions{SecurableType: "schema", FullName: dataSchema, Changes: []catalog.PermissionsChange{
		{Principal: "data-engineers", Remove: []catalog.Privilege{"CREATE_TABLE"}},
		{Principal: "analysts", Add: []catalog.Privilege{"CREATE_TABLE"}},
		{Principal: "auditors", Add: []catalog.Privilege{"USE_SCHEMA"}},
	}}); err != nil {
		t.Fatal(err)
	}
	p, err := planLocal(ctx, w, b, files())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Refresh(ctx, w); err != nil {
		t.Fatal(err)
	}
	if len(p.Drift) != 1 || p.Drift[0].Key != "data" || len(p.Drift[0].Fields) != 1 || p.Drift[0].Fields[0].Path != "grants" {
		t.Fatalf("drift %+v, want the schema's grants", p.Drift)
	}
	opts := testOptions()
	opts.Refresh = true
	if _, err := applyFiles(ctx, w, b, files(), opts); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"analysts": {"USE_SCHEMA"}, "auditors": {"USE_SCHEMA"}, "data-engineers": {"CREATE_TABLE", "USE_SCHEMA"}}
	got := grantsOf(srv, "SCHEMA/"+dataSchema)
	for _, l := range got {
		slices.Sort(l)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("grants after deploy --refresh (-want +got):\n%s", diff)
	}
	checkInSync(t, ctx, w, b, files(), "after deploy --refresh the grants still differ")
}
