package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/emulator"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/catalog"
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
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	b := dataBundle(dir)
	files := func() []localFile { return listFiles(t, dir, b.Workspace.FilePath) }

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

var (
	_ = json.Marshal
	_ = fmt.Sprint
	_ = strconv.Itoa
)
