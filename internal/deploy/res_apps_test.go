package deploy

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go/service/apps"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/google/go-cmp/cmp"
)

func appResource(name, description string, perms ...bundle.Permission) bundle.Resource {
	return bundle.Resource{Type: "apps", Key: "chat", Name: name, Config: map[string]any{
		"name":             name,
		"description":      description,
		"source_code_path": testRoot + "/files/app",
		"config":           map[string]any{"command": []any{"python", "app.py"}},
		"resources": []any{map[string]any{
			"name":          "jobs",
			"job":           map[string]any{"id": "${resources.jobs.train.id}", "permission": "CAN_MANAGE_RUN"},
			"description":   "the training job",
			"ignored_field": nil,
		}},
	}, Permissions: perms}
}

// appBundle is the demo bundle's train job with the app that uses it.
func appBundle(dir string, app bundle.Resource) *bundle.Bundle {
	b := demoBundle(dir)
	delete(b.Jobs, "orchestrate")
	b.Resources = []bundle.Resource{app}
	return b
}

// TestAppLifecycle deploys an app that uses a job, with permissions,
// deploys it again unchanged, updates it in place, renames it (a
// re-create), removes it from the bundle and destroys a bundle holding
// one.
func TestAppLifecycle(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	users := bundle.Permission{Level: "CAN_USE", GroupName: "users"}

	b := appBundle(dir, appResource("chat", "v1", users))
	_, reqs := typeDeploy(t, srv, w, b)
	a, ok := srv.Apps(testToken)["chat"]
	if !ok {
		t.Fatal("no app chat")
	}
	var jobID string
	for id := range srv.Jobs(testToken) {
		jobID = strconv.FormatInt(id, 10)
	}
	if a.Description != "v1" || a.ComputeStatus == nil || a.ComputeStatus.State != apps.ComputeStateStopped ||
		len(a.Resources) != 1 || a.Resources[0].Job == nil || a.Resources[0].Job.Id != jobID || a.SourceCodePath != "" {
		t.Errorf("app = %+v; want v1, created without compute, using job %s, with no code sent", a, jobID)
	}
	if n := countWrites(reqs, "POST", "/api/2.0/apps"); n != 1 {
		t.Errorf("sent %d app creates, want 1", n)
	}
	want := map[string]iam.PermissionLevel{"user:" + testUser: iam.PermissionLevelCanManage, "group:users": iam.PermissionLevelCanUse}
	if diff := cmp.Diff(want, aclOf(srv, "apps/chat")); diff != "" {
		t.Errorf("app permissions (-want +got):\n%s", diff)
	}
	e, ok := recordedState(t, srv)["resources.apps.chat"]
	if !ok || e.ID != "chat" || e.State["source_code_path"] != testRoot+"/files/app" || e.State["config"] == nil {
		t.Errorf("state entry resources.apps.chat = %+v, %v; want the name and the code settings", e, ok)
	}

	// Unchanged: nothing is written.
	res, reqs := typeDeploy(t, srv, w, b)
	if res.Changed || len(writesTo(reqs, "/")) != 0 {
		t.Errorf("a no-change deploy changed %v and wrote %v", res.Changed, writesTo(reqs, "/"))
	}

	// A new description: one app update, waited for.
	b = appBundle(dir, appResource("chat", "v2", users))
	if plan := changeOf(typePlan(t, w, b), "app"); plan.Action != Update || plan.Replace {
		t.Fatalf("plan of a description change = %+v, want an update in place", plan)
	}
	_, reqs = typeDeploy(t, srv, w, b)
	if n := countWrites(reqs, "POST", "/api/2.0/apps/chat/update"); n != 1 {
		t.Errorf("sent %d app updates, want 1: %v", n, reqs)
	}
	if got := srv.Apps(testToken)["chat"]; got.Description != "v2" || got.Id != a.Id {
		t.Errorf("updated app = %+v, want %s with v2", got, a.Id)
	}

	// A new command only: recorded, nothing sent.
	changed := appResource("chat", "v2", users)
	changed.Config["config"] = map[string]any{"command": []any{"streamlit", "run", "app.py"}}
	b = appBundle(dir, changed)
	_, reqs = typeDeploy(t, srv, w, b)
	if n := len(writesTo(reqs, "/api/2.0/apps")); n != 0 {
		t.Errorf("a code change sent %d app requests", n)
	}
	if got := recordedState(t, srv)["resources.apps.chat"].State["config"]; !strings.Contains(fmt.Sprint(got), "streamlit") {
		t.Errorf("recorded config = %v, want the new command", got)
	}

	// A new name replaces it.
	b = appBundle(dir, appResource("chat2", "v2", users))
	if plan := changeOf(typePlan(t, w, b), "app"); plan.Action != Update || !plan.Replace {
		t.Fatalf("plan of a rename = %+v, want a replace", plan)
	}
	typeDeploy(t, srv, w, b)
	all := srv.Apps(testToken)
	if got, ok := all["chat2"]; !ok || got.Description != "v2" {
		t.Errorf("apps after a rename = %+v, want chat2", all)
	}
	if old, ok := all["chat"]; ok && (old.ComputeStatus == nil || old.ComputeStatus.State != apps.ComputeStateDeleting) {
		t.Errorf("the old app is %+v, want it deleted", old)
	}

	// Dropped from the bundle: deleted, with its state.
	b = demoBundle(dir)
	delete(b.Jobs, "orchestrate")
	_, reqs = typeDeploy(t, srv, w, b)
	if n := countWrites(reqs, "DELETE", "/api/2.0/apps/chat2"); n != 1 {
		t.Errorf("sent %d app deletes, want 1", n)
	}
	for a := range recordedState(t, srv) {
		if strings.HasPrefix(a, "resources.apps.") {
			t.Errorf("state still holds %s", a)
		}
	}

	// Added back at once under the same name: created once the old one's
	// deletion has finished. Destroy then leaves none.
	b = appBundle(dir, appResource("chat2", "v3"))
	typeDeploy(t, srv, w, b)
	if got := srv.Apps(testToken)["chat2"]; got.Description != "v3" || got.ComputeStatus == nil || got.ComputeStatus.State == apps.ComputeStateDeleting {
		t.Errorf("app added back = %+v", got)
	}
	if err := Destroy(context.Background(), w, b, testOptions()); err != nil {
		t.Fatal(err)
	}
	for name, got := range srv.Apps(testToken) {
		if got.ComputeStatus == nil || got.ComputeStatus.State != apps.ComputeStateDeleting {
			t.Errorf("app %s left after destroy: %+v", name, got.ComputeStatus)
		}
	}
}
