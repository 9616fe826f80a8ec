package deploy

import (
	"context"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/emulator"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/compute"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/google/go-cmp/cmp"
)

// resourceBundle is the demo bundle's target with no jobs and the given
// resources.
func resourceBundle(dir string, rs ...bundle.Resource) *bundle.Bundle {
	b := demoBundle(dir)
	b.Jobs = nil
	b.Resources = rs
	return b
}

// typeDeploy deploys b with the demo files of dir and returns the result
// and the requests the deploy sent.
func typeDeploy(t *testing.T, srv *emulator.Server, w *databricks.WorkspaceClient, b *bundle.Bundle) (*Result, []emulator.Request) {
	t.Helper()
	before := len(srv.Requests())
	res, err := applyFiles(context.Background(), w, b, listFiles(t, b.Dir, b.Workspace.FilePath), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	return res, requestsSince(srv, before)
}

// typePlan plans b against the deployed state and returns its resource
// changes.
func typePlan(t *testing.T, w *databricks.WorkspaceClient, b *bundle.Bundle) []ResourceChange {
	t.Helper()
	p, err := planLocal(context.Background(), w, b, listFiles(t, b.Dir, b.Workspace.FilePath))
	if err != nil {
		t.Fatal(err)
	}
	return p.Resources
}

// writesTo lists the requests other than reads whose path contains part.
func writesTo(reqs []emulator.Request, part string) []emulator.Request {
	var out []emulator.Request
	for _, r := range reqs {
		if r.Method != "GET" && strings.Contains(r.Path, part) {
			out = append(out, r)
		}
	}
	return out
}

// countWrites counts the requests of a method whose path ends with suffix.
func countWrites(reqs []emulator.Request, method, suffix string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

// aclOf returns principal → direct permission level of an object, admins
// left out.
func aclOf(srv *emulator.Server, object string) map[string]iam.PermissionLevel {
	out := map[string]iam.PermissionLevel{}
	for _, e := range srv.Permissions(testToken)[object] {
		for _, p := range e.AllPermissions {
			if p.Inherited {
				continue
			}
			switch {
			case e.UserName != "":
				out["user:"+e.UserName] = p.PermissionLevel
			case e.ServicePrincipalName != "":
				out["sp:"+e.ServicePrincipalName] = p.PermissionLevel
			case e.GroupName != "admins":
				out["group:"+e.GroupName] = p.PermissionLevel
			}
		}
	}
	return out
}

func clusterResource(workers int, version string, perms ...bundle.Permission) bundle.Resource {
	return bundle.Resource{Type: "clusters", Key: "etl", Name: "etl", Config: map[string]any{
		"cluster_name":  "etl",
		"spark_version": version,
		"node_type_id":  "i3.xlarge",
		"num_workers":   workers,
	}, Permissions: perms}
}

// onlyCluster returns the one cluster of the workspace.
func onlyCluster(t *testing.T, srv *emulator.Server) compute.ClusterDetails {
	t.Helper()
	all := srv.Clusters(testToken)
	if len(all) != 1 {
		t.Fatalf("workspace has %d clusters, want 1: %+v", len(all), all)
	}
	for _, c := range all {
		return c
	}
	panic("unreachable")
}

// TestClusterLifecycle deploys a cluster with permissions, deploys it
// again unchanged, edits it in place, removes it from the bundle, and
// destroys a bundle holding one.
func TestClusterLifecycle(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	users := bundle.Permission{Level: "CAN_ATTACH_TO", GroupName: "users"}

	// Create, without waiting for it to run, and set its permissions.
	b := resourceBundle(dir, clusterResource(2, "15.4.x-scala2.12", users))
	_, reqs := typeDeploy(t, srv, w, b)
	if n := countWrites(reqs, "POST", "/api/2.1/clusters/create"); n != 1 {
		t.Errorf("sent %d cluster creates, want 1", n)
	}
	if n := countWrites(reqs, "GET", "/api/2.1/clusters/get"); n != 0 {
		t.Errorf("waited for the new cluster (%d gets)", n)
	}
	c := onlyCluster(t, srv)
	if c.ClusterName != "etl" || c.NumWorkers != 2 || c.Spec == nil || c.Spec.AutoterminationMinutes != 60 {
		t.Errorf("cluster = %+v; want etl with 2 workers and the CLI's default auto-termination", c)
	}
	want := map[string]iam.PermissionLevel{"user:" + testUser: iam.PermissionLevelCanManage, "group:users": iam.PermissionLevelCanAttachTo}
	if diff := cmp.Diff(want, aclOf(srv, "clusters/"+c.ClusterId)); diff != "" {
		t.Errorf("cluster permissions (-want +got):\n%s", diff)
	}
	st := recordedState(t, srv)
	e, ok := st["resources.clusters.etl"]
	if !ok || e.ID != c.ClusterId || e.State["cluster_name"] != "etl" || e.State["spark_version"] != "15.4.x-scala2.12" {
		t.Errorf("state entry resources.clusters.etl = %+v, %v; want __id__ %s and the settings", e, ok, c.ClusterId)
	}
	if p, ok := st["resources.clusters.etl.permissions"]; !ok || p.ID != "/clusters/"+c.ClusterId {
		t.Errorf("state entry of the permissions = %+v, %v", p, ok)
	}

	// Unchanged: nothing is written.
	res, reqs := typeDeploy(t, srv, w, b)
	if res.Changed || len(writesTo(reqs, "/")) != 0 {
		t.Errorf("a no-change deploy changed %v and wrote %v", res.Changed, writesTo(reqs, "/"))
	}

	// More workers and a new runtime: edited in place, whatever state the
	// new cluster is in by now.
	b = resourceBundle(dir, clusterResource(4, "16.4.x-scala2.12", users))
	plan := typePlan(t, w, b)
	if len(plan) != 1 || plan[0].Action != Update || plan[0].Replace {
		t.Fatalf("plan of a size and runtime change = %+v, want one update in place", plan)
	}
	_, reqs = typeDeploy(t, srv, w, b)
	if n := countWrites(reqs, "POST", "/api/2.1/clusters/edit"); n < 1 {
		t.Errorf("sent no cluster edit: %v", reqs)
	}
	if n := countWrites(reqs, "POST", "/api/2.1/clusters/create") + countWrites(reqs, "POST", "/api/2.1/clusters/permanent-delete"); n != 0 {
		t.Errorf("an edit re-created the cluster: %v", reqs)
	}
	if n := len(writesTo(reqs, "/api/2.0/permissions/")); n != 0 {
		t.Errorf("an edit set permissions again (%d requests)", n)
	}
	edited := onlyCluster(t, srv)
	if edited.ClusterId != c.ClusterId || edited.NumWorkers != 4 || edited.Spec.SparkVersion != "16.4.x-scala2.12" {
		t.Errorf("edited cluster = %+v, want %s with 4 workers on 16.4", edited, c.ClusterId)
	}

	// Dropped from the bundle: deleted permanently, with its state.
	_, reqs = typeDeploy(t, srv, w, resourceBundle(dir))
	if n := countWrites(reqs, "POST", "/api/2.1/clusters/permanent-delete"); n != 1 {
		t.Errorf("sent %d permanent deletes, want 1", n)
	}
	if got := srv.Clusters(testToken); len(got) != 0 {
		t.Errorf("clusters left: %+v", got)
	}
	for a := range recordedState(t, srv) {
		if strings.HasPrefix(a, "resources.clusters.") {
			t.Errorf("state still holds %s", a)
		}
	}

	// Destroy leaves none.
	b = resourceBundle(dir, clusterResource(1, "15.4.x-scala2.12"))
	typeDeploy(t, srv, w, b)
	if err := Destroy(context.Background(), w, b, testOptions()); err != nil {
		t.Fatal(err)
	}
	if got := srv.Clusters(testToken); len(got) != 0 {
		t.Errorf("clusters left after destroy: %+v", got)
	}
}

// TestClusterGoneIsDeleted checks that a cluster deleted in the workspace
// does not fail the delete of a bundle that dropped it.
func TestClusterGoneIsDeleted(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	typeDeploy(t, srv, w, resourceBundle(dir, clusterResource(0, "15.4.x-scala2.12")))
	c := onlyCluster(t, srv)
	if c.NumWorkers != 0 || c.Spec == nil {
		t.Errorf("single-node cluster = %+v", c)
	}
	if err := w.Clusters.PermanentDeleteByClusterId(context.Background(), c.ClusterId); err != nil {
		t.Fatal(err)
	}
	typeDeploy(t, srv, w, resourceBundle(dir))
	if _, ok := recordedState(t, srv)["resources.clusters.etl"]; ok {
		t.Error("state still records the deleted cluster")
	}
}
