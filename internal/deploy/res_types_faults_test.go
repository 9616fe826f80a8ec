package deploy

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/emulator"
)

// computeBundle holds one resource of each of the compute and SQL types:
// an app, a dashboard and an alert on a warehouse, a cluster and a secret
// scope, all with permissions.
func computeBundle(t *testing.T, dir string) *bundle.Bundle {
	t.Helper()
	writeTree(t, dir, map[string]string{"dash/sales.lvdash.json": `{"pages":[]}`})
	manage := bundle.Permission{Level: "CAN_MANAGE", GroupName: "admins-data"}
	app := appResource("chat", "v1", bundle.Permission{Level: "CAN_USE", GroupName: "users"})
	delete(app.Config, "resources")
	return resourceBundle(dir,
		app,
		dashboardResource(dir, "", bundle.Permission{Level: "CAN_READ", GroupName: "users"}),
		alertResource(10, manage),
		clusterResource(1, "15.4.x-scala2.12", bundle.Permission{Level: "CAN_RESTART", GroupName: "users"}),
		warehouseResource("Small", manage),
		scopeResource("app-secrets", bundle.Permission{Level: "READ", GroupName: "users"}),
	)
}

// TestComputeTypesConvergeUnderFaults deploys the compute and SQL types
// while the workspace answers one request in ten with a 429 or a 503: the
// deploy succeeds with exactly one of each, and the next deploy changes
// nothing.
func TestComputeTypesConvergeUnderFaults(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{3, 11} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			srv, w := faultyServer(t, emulator.Config{Latency: time.Millisecond, TaskDuration: time.Millisecond, FaultRate: 0.1, Seed: seed}, nil)
			dir := t.TempDir()
			writeTree(t, dir, demoFiles)
			b := computeBundle(t, dir)
			ctx := context.Background()
			files := listFiles(t, dir, b.Workspace.FilePath)
			if _, err := applyFiles(ctx, w, b, files, fastOptions()); err != nil {
				t.Fatal(err)
			}
			counts := map[string]int{
				"apps": len(srv.Apps(testToken)), "dashboards": len(activeDashboards(srv)), "alerts": len(activeAlerts(srv)),
				"clusters": len(srv.Clusters(testToken)), "warehouses": len(srv.Warehouses(testToken)), "scopes": len(srv.SecretScopes(testToken)),
			}
			for what, n := range counts {
				if n != 1 {
					t.Errorf("%d %s, want 1", n, what)
				}
			}
			st := recordedState(t, srv)
			for _, a := range []string{"resources.apps.chat", "resources.dashboards.sales", "resources.alerts.errors",
				"resources.clusters.etl", "resources.sql_warehouses.bi", "resources.secret_scopes.app"} {
				if e, ok := st[a]; !ok || e.ID == "" {
					t.Errorf("state has no id for %s", a)
				}
				if _, ok := st[a+".permissions"]; !ok && a != "resources.secret_scopes.app" {
					t.Errorf("state has no permissions for %s", a)
				}
			}
			if err := srv.Configure(emulator.Config{Latency: time.Millisecond, TaskDuration: time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			res, err := applyFiles(ctx, w, b, files, fastOptions())
			if err != nil {
				t.Fatal(err)
			}
			if res.Changed {
				t.Errorf("the deploy after the faulty one changed %+v", res.Plan.Resources)
			}
		})
	}
}
