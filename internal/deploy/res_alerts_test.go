package deploy

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/emulator"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/sql"
	"github.com/google/go-cmp/cmp"
)

func alertResource(threshold float64, perms ...bundle.Permission) bundle.Resource {
	return bundle.Resource{Type: "alerts", Key: "errors", Name: "errors", Config: map[string]any{
		"display_name": "errors",
		"warehouse_id": "${resources.sql_warehouses.bi.id}",
		"query_text":   "SELECT count(*) AS n FROM logs",
		"schedule":     map[string]any{"quartz_cron_schedule": "0 0 * * * ?", "timezone_id": "UTC"},
		"evaluation": map[string]any{
			"comparison_operator": "GREATER_THAN",
			"source":              map[string]any{"name": "n"},
			"threshold":           map[string]any{"value": map[string]any{"double_value": threshold}},
		},
	}, Permissions: perms}
}

// activeAlerts returns the alerts of the workspace not in the trash.
func activeAlerts(srv *emulator.Server) []sql.AlertV2 {
	var out []sql.AlertV2
	for _, a := range srv.Alerts(testToken) {
		if a.LifecycleState != sql.AlertLifecycleStateDeleted {
			out = append(out, a)
		}
	}
	return out
}

// TestAlertLifecycle deploys an alert on the bundle's SQL warehouse with
// permissions, deploys it again unchanged, updates it in place, checks a
// refresh finds nothing changed, removes it from the bundle and destroys
// a bundle holding one.
func TestAlertLifecycle(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	runners := bundle.Permission{Level: "CAN_RUN", GroupName: "users"}
	wh := warehouseResource("Small")

	b := resourceBundle(dir, wh, alertResource(10, runners))
	typeDeploy(t, srv, w, b)
	all := activeAlerts(srv)
	if len(all) != 1 {
		t.Fatalf("%d alerts, want 1", len(all))
	}
	a := all[0]
	whID := onlyWarehouse(t, srv).Id
	if a.WarehouseId != whID || a.ParentPath != strings.TrimPrefix(testRoot, "/Workspace")+"/resources" || a.Evaluation.Threshold.Value.DoubleValue != 10 {
		t.Errorf("alert = %+v; want it on warehouse %s in the resource path", a, whID)
	}
	want := map[string]iam.PermissionLevel{"user:" + testUser: iam.PermissionLevelCanManage, "group:users": iam.PermissionLevelCanRun}
	if diff := cmp.Diff(want, aclOf(srv, "alertsv2/"+a.Id)); diff != "" {
		t.Errorf("alert permissions (-want +got):\n%s", diff)
	}
	e, ok := recordedState(t, srv)["resources.alerts.errors"]
	if !ok || e.ID != a.Id || e.State["display_name"] != "errors" || e.State["parent_path"] != testRoot+"/resources" || e.State["id"] != nil {
		t.Errorf("state entry resources.alerts.errors = %+v, %v", e, ok)
	}

	// Unchanged: nothing is written.
	res, reqs := typeDeploy(t, srv, w, b)
	if res.Changed || len(writesTo(reqs, "/")) != 0 {
		t.Errorf("a no-change deploy changed %v and wrote %v", res.Changed, writesTo(reqs, "/"))
	}

	// A new threshold: updated in place.
	b = resourceBundle(dir, wh, alertResource(20, runners))
	if plan := changeOf(typePlan(t, w, b), "alert"); plan.Action != Update || plan.Replace {
		t.Fatalf("plan of a threshold change = %+v, want an update in place", plan)
	}
	_, reqs = typeDeploy(t, srv, w, b)
	if n := countWrites(reqs, "PATCH", "/api/2.0/alerts/"+a.Id); n != 1 {
		t.Errorf("sent %d alert updates, want 1", n)
	}
	if got := srv.Alerts(testToken)[a.Id]; got.Evaluation.Threshold.Value.DoubleValue != 20 || len(activeAlerts(srv)) != 1 {
		t.Errorf("updated alert = %+v", got)
	}
	ctx := context.Background()
	p, err := planLocal(ctx, w, b, listFiles(t, dir, b.Workspace.FilePath))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Refresh(ctx, w); err != nil || len(p.Drift) != 0 {
		t.Errorf("refresh of an unchanged alert: %+v, %v", p.Drift, err)
	}

	// Dropped from the bundle: purged, with its state.
	_, reqs = typeDeploy(t, srv, w, resourceBundle(dir, wh))
	if n := countWrites(reqs, "DELETE", "/api/2.0/alerts/"+a.Id); n != 1 {
		t.Errorf("sent %d alert deletes, want 1", n)
	}
	if got := srv.Alerts(testToken); len(got) != 0 {
		t.Errorf("alerts left: %+v", got)
	}
	for a := range recordedState(t, srv) {
		if strings.HasPrefix(a, "resources.alerts.") {
			t.Errorf("state still holds %s", a)
		}
	}

	// Destroy leaves none.
	b = resourceBundle(dir, wh, alertResource(5))
	typeDeploy(t, srv, w, b)
	if err := Destroy(ctx, w, b, testOptions()); err != nil {
		t.Fatal(err)
	}
	if got := srv.Alerts(testToken); len(got) != 0 {
		t.Errorf("alerts left after destroy: %+v", got)
	}
}

// TestAlertFromFile deploys an alert defined by a .dbalert.json file, whose
// lines are joined as the Databricks CLI joins them.
func TestAlertFromFile(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, demoFiles)
	writeTree(t, dir, map[string]string{"alerts/errors.dbalert.json": `{
  "query_lines": ["SELECT count(*) AS n", "FROM logs"],
  "custom_description_lines": ["Too many errors."],
  "schedule": {"quartz_cron_schedule": "0 0 * * * ?", "timezone_id": "UTC"},
  "evaluation": {"comparison_operator": "IS_NOT_NULL", "source": {"name": "n"}}
}`})
	r := bundle.Resource{Type: "alerts", Key: "errors", Name: "errors", Config: map[string]any{
		"display_name": "errors", "warehouse_id": "${resources.sql_warehouses.bi.id}", "file_path": "alerts/errors.dbalert.json",
	}, Location: bundle.Location{File: filepath.Join(dir, "databricks.yml"), Line: 1, Column: 1}}
	typeDeploy(t, srv, w, resourceBundle(dir, warehouseResource("Small"), r))
	all := activeAlerts(srv)
	if len(all) != 1 {
		t.Fatalf("%d alerts, want 1", len(all))
	}
	if a := all[0]; a.QueryText != "SELECT count(*) AS n\nFROM logs\n" || a.CustomDescription != "Too many errors.\n" || a.DisplayName != "errors" || a.WarehouseId == "" {
		t.Errorf("alert from its file = %+v", a)
	}
}
