package deploy

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/emulator"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/serving"
	"github.com/google/go-cmp/cmp"
)

const (
	endpointName = "demo-chat"
	servingSP    = "6f1c2a4e-3b7d-4e8a-9c0f-1a2b3c4d5e6f"
)

// endpointBundle is a bundle with no jobs and one serving endpoint serving
// version of a registered model, with grants for a group and a service
// principal.
func endpointBundle(dir, version string) *bundle.Bundle {
	b := demoBundle(dir)
	b.Jobs = map[string]*bundle.Job{}
	b.ServingEndpoints = map[string]*bundle.ServingEndpoint{
		"chat": {Key: "chat", Config: map[string]any{
			"name": endpointName,
			"config": map[string]any{
				"served_entities": []any{map[string]any{
					"entity_name":           "staging.rag.chatbot",
					"entity_version":        version,
					"workload_size":         "Small",
					"scale_to_zero_enabled": true,
				}},
			},
		}, Permissions: []bundle.Permission{
			{Level: "CAN_QUERY", GroupName: "users"},
			{Level: "CAN_MANAGE", ServicePrincipalName: servingSP},
		}},
	}
	return b
}

// countMatching counts requests whose path contains part and whose method
// is method (any method when method is empty).
func countMatching(reqs []emulator.Request, method, part string) int {
	n := 0
	for _, r := range reqs {
		if (method == "" || r.Method == method) && strings.Contains(r.Path, part) {
			n++
		}
	}
	return n
}

// endpointACL returns the direct permission level of every principal of
// the endpoint, keyed "user:<name>", "group:<name>" or "sp:<name>".
func endpointACL(t *testing.T, srv *emulator.Server, id string) map[string]iam.PermissionLevel {
	t.Helper()
	list, ok := srv.Permissions(testToken)["serving-endpoints/"+id]
	if !ok {
		t.Fatalf("serving endpoint %s has no permissions; have %v", id, slices.Sorted(maps.Keys(srv.Permissions(testToken))))
	}
	out := map[string]iam.PermissionLevel{}
	for _, a := range list {
		for _, p := range a.AllPermissions {
			if p.Inherited {
				continue
			}
			switch {
			case a.UserName != "":
				out["user:"+a.UserName] = p.PermissionLevel
			case a.GroupName != "":
				out["group:"+a.GroupName] = p.PermissionLevel
			default:
				out["sp:"+a.ServicePrincipalName] = p.PermissionLevel
			}
		}
	}
	return out
}

// servedVersion returns the entity version the endpoint's active config
// serves and checks that the endpoint is ready and not updating.
func servedVersion(t *testing.T, srv *emulator.Server) (string, int64) {
	t.Helper()
	e, ok := srv.Endpoints(testToken)[endpointName]
	if !ok {
		t.Fatalf("serving endpoint %q does not exist", endpointName)
	}
	if e.State == nil || e.State.Ready != serving.EndpointStateReadyReady || e.State.ConfigUpdate != serving.EndpointStateConfigUpdateNotUpdating {
		t.Fatalf("serving endpoint %q is not ready: %+v", endpointName, e.State)
	}
	if e.PendingConfig != nil {
		t.Fatalf("serving endpoint %q still has a pending config: %+v", endpointName, e.PendingConfig)
	}
	if e.Config == nil || len(e.Config.ServedEntities) != 1 {
		t.Fatalf("serving endpoint %q serves %+v, want one entity", endpointName, e.Config)
	}
	return e.Config.ServedEntities[0].EntityVersion, e.Config.ConfigVersion
}

// TestServingEndpointLifecycle creates an endpoint and waits for it,
// redeploys it unchanged, updates the served version, removes it from the
// bundle, creates it again and destroys the bundle.
func TestServingEndpointLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	b := endpointBundle(dir, "1")
	files := func() []localFile { return listFiles(t, dir, b.Workspace.FilePath) }
	var progress bytes.Buffer
	opts := testOptions()
	opts.Progress = &progress

	// Create: Apply returns only once the endpoint is ready.
	first, err := applyFiles(ctx, w, b, files(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := first.Endpoints["chat"]; got != endpointName {
		t.Errorf("result names endpoint %q, want %q", got, endpointName)
	}
	if v, cv := servedVersion(t, srv); v != "1" || cv != 1 {
		t.Errorf("serves version %q with config version %d, want 1 and 1", v, cv)
	}
	reqs := srv.Requests()
	if n := countMatching(reqs, "POST", "/api/2.0/serving-endpoints"); n != 1 {
		t.Errorf("sent %d creates, want 1", n)
	}
	if n := countMatching(reqs, "GET", "/api/2.0/serving-endpoints/"+endpointName); n < 1 {
		t.Error("did not poll the endpoint until it was ready")
	}
	id := srv.Endpoints(testToken)[endpointName].Id
	want := map[string]iam.PermissionLevel{
		"user:" + testUser: iam.PermissionLevelCanManage,
		"group:users":      iam.PermissionLevelCanQuery,
		"sp:" + servingSP:  iam.PermissionLevelCanManage,
	}
	if diff := cmp.Diff(want, endpointACL(t, srv, id)); diff != "" {
		t.Errorf("endpoint permissions (-want +got):\n%s", diff)
	}
	if !strings.Contains(progress.String(), "created serving endpoint "+endpointName) {
		t.Errorf("progress does not report the create:\n%s", progress.String())
	}

	// Unchanged: no serving endpoint or permissions request at all.
	before := len(srv.Requests())
	second, err := applyFiles(ctx, w, b, files(), opts)
	if err != nil {
		t.Fatal(err)
	}
	reqs = requestsSince(srv, before)
	if n := countMatching(reqs, "", "serving-endpoints"); n != 0 {
		t.Errorf("no-change deploy sent %d serving endpoint or permissions requests: %v", n, reqs)
	}
	if second.Changed {
		t.Error("no-change deploy reports a change")
	}

	// Serve version 2: one config update, waited for, permissions kept.
	b = endpointBundle(dir, "2")
	plan, err := planLocal(ctx, w, b, files())
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Resources) != 1 || plan.Resources[0].Action != Update {
		t.Fatalf("plan after a version change: %+v, want one update", plan.Resources)
	}
	if got := plan.Resources[0].Fields; len(got) != 1 || got[0].Path != "config.served_entities[0].entity_version" {
		t.Errorf("planned field changes %+v, want config.served_entities[0].entity_version", got)
	}
	before = len(srv.Requests())
	progress.Reset()
	if _, err := applyFiles(ctx, w, b, files(), opts); err != nil {
		t.Fatal(err)
	}
	reqs = requestsSince(srv, before)
	if n := countMatching(reqs, "PUT", "/api/2.0/serving-endpoints/"+endpointName+"/config"); n != 1 {
		t.Errorf("sent %d config updates, want 1: %v", n, reqs)
	}
	if n := countMatching(reqs, "POST", "/api/2.0/serving-endpoints"); n != 0 {
		t.Errorf("a version change created the endpoint again (%d creates)", n)
	}
	if n := countMatching(reqs, "PUT", "/api/2.0/permissions/"); n != 0 {
		t.Errorf("a version change set permissions again (%d requests)", n)
	}
	if v, cv := servedVersion(t, srv); v != "2" || cv != 2 {
		t.Errorf("serves version %q with config version %d, want 2 and 2", v, cv)
	}
	if got := srv.Endpoints(testToken)[endpointName].Id; got != id {
		t.Errorf("endpoint id changed from %s to %s", id, got)
	}
	if diff := cmp.Diff(want, endpointACL(t, srv, id)); diff != "" {
		t.Errorf("endpoint permissions after the update (-want +got):\n%s", diff)
	}
	if !strings.Contains(progress.String(), "updated serving endpoint "+endpointName) {
		t.Errorf("progress does not report the update:\n%s", progress.String())
	}

	// A grant removed from the bundle is removed from the endpoint; the
	// deployer keeps CAN_MANAGE.
	b.ServingEndpoints["chat"].Permissions = b.ServingEndpoints["chat"].Permissions[:1]
	before = len(srv.Requests())
	if _, err := applyFiles(ctx, w, b, files(), opts); err != nil {
		t.Fatal(err)
	}
	if n := countMatching(requestsSince(srv, before), "", "/serving-endpoints/"+endpointName); n != 0 {
		t.Errorf("a permissions change sent %d serving endpoint requests, want 0", n)
	}
	delete(want, "sp:"+servingSP)
	if diff := cmp.Diff(want, endpointACL(t, srv, id)); diff != "" {
		t.Errorf("endpoint permissions after removing a grant (-want +got):\n%s", diff)
	}

	// Removed from the bundle: deleted.
	b.ServingEndpoints = nil
	if _, err := applyFiles(ctx, w, b, files(), opts); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Endpoints(testToken)[endpointName]; ok {
		t.Error("serving endpoint removed from the bundle still exists")
	}
	if _, ok := srv.Permissions(testToken)["serving-endpoints/"+id]; ok {
		t.Error("permissions of the deleted endpoint remain")
	}

	// Back in the bundle, then destroyed.
	b = endpointBundle(dir, "2")
	if _, err := applyFiles(ctx, w, b, files(), opts); err != nil {
		t.Fatal(err)
	}
	if v, _ := servedVersion(t, srv); v != "2" {
		t.Errorf("recreated endpoint serves version %q, want 2", v)
	}
	if err := Destroy(ctx, w, b, opts); err != nil {
		t.Fatal(err)
	}
	if got := srv.Endpoints(testToken); len(got) != 0 {
		t.Errorf("destroy left serving endpoints: %v", slices.Sorted(maps.Keys(got)))
	}
	for p := range srv.Files(testToken) {
		if strings.HasPrefix(p, "/Users/me@example.com/.bundle/demo/staging") {
			t.Errorf("destroy left %s", p)
		}
	}
}

// TestServingEndpointTimeout checks that a create or a config update that
// takes longer than Options.EndpointTimeout fails with an error naming the
// endpoint and releases the lock, and that an endpoint created before the
// timeout is recorded, so that the next deploy does not create it twice.
func TestServingEndpointTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	wantErr := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("deploy succeeded although the endpoint never became ready")
		}
		for _, want := range []string{`serving endpoint "` + endpointName + `"`, "did not become ready within 200ms"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
	}
	lockPath := strings.TrimPrefix(testRoot, "/Workspace") + "/state/deploy.lock"
	opts := testOptions()
	opts.EndpointTimeout = 200 * time.Millisecond

	t.Run("create", func(t *testing.T) {
		t.Parallel()
		srv, w := newServer(t, nil)
		dir := t.TempDir()
		writeTree(t, dir, demoFiles)
		if err := srv.Configure(emulator.Config{TaskDuration: time.Hour}); err != nil {
			t.Fatal(err)
		}
		b := endpointBundle(dir, "1")
		start := time.Now()
		_, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), opts)
		wantErr(t, err)
		if elapsed := time.Since(start); elapsed > time.Minute {
			t.Errorf("the deploy waited %s; the endpoint timeout was not applied", elapsed)
		}
		if _, ok := srv.Files(testToken)[lockPath]; ok {
			t.Error("lock not released after the timeout")
		}
		before := len(srv.Requests())
		_, _ = applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), opts)
		if n := countMatching(requestsSince(srv, before), "POST", "/api/2.0/serving-endpoints"); n != 0 {
			t.Errorf("redeploy after a timed-out create sent %d creates, want 0", n)
		}
		if n := len(srv.Endpoints(testToken)); n != 1 {
			t.Errorf("got %d endpoints, want 1", n)
		}
	})

	t.Run("update", func(t *testing.T) {
		t.Parallel()
		srv, w := newServer(t, nil)
		dir := t.TempDir()
		writeTree(t, dir, demoFiles)
		b := endpointBundle(dir, "1")
		// The SDK polls about once a second, so the create needs the
		// default timeout to see the endpoint ready.
		if _, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), testOptions()); err != nil {
			t.Fatal(err)
		}
		if err := srv.Configure(emulator.Config{TaskDuration: time.Hour}); err != nil {
			t.Fatal(err)
		}
		b = endpointBundle(dir, "2")
		_, err := applyFiles(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath), opts)
		wantErr(t, err)
		if _, ok := srv.Files(testToken)[lockPath]; ok {
			t.Error("lock not released after the timeout")
		}
		if e := srv.Endpoints(testToken)[endpointName]; e.PendingConfig == nil || e.PendingConfig.ServedEntities[0].EntityVersion != "2" {
			t.Errorf("the config update was not sent: pending %+v", e.PendingConfig)
		}
	})
}
