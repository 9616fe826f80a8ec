package deploy

import (
	"context"
	"strings"
	"testing"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/diag"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/workspace"
)

const computeYAML = `bundle:
  name: compute
permissions:
  - level: CAN_VIEW
    group_name: viewers
targets:
  dev:
    default: true
resources:
  clusters:
    etl:
      cluster_name: etl-${bundle.target}
      spark_version: 15.4.x-scala2.12
      node_type_id: i3.xlarge
      num_workers: 1
  sql_warehouses:
    bi:
      name: bi-${bundle.target}
      cluster_size: Small
      permissions:
        - level: CAN_USE
          group_name: analysts
  secret_scopes:
    app:
      name: app-${bundle.target}
      permissions:
        - level: WRITE
          group_name: writers
  dashboards:
    sales:
      display_name: Sales
      warehouse_id: ${resources.sql_warehouses.bi.id}
      file_path: ./dash/sales.lvdash.json
  alerts:
    errors:
      display_name: errors
      warehouse_id: ${resources.sql_warehouses.bi.id}
      query_text: SELECT count(*) AS n FROM logs
      schedule:
        quartz_cron_schedule: 0 0 * * * ?
        timezone_id: UTC
      evaluation:
        comparison_operator: GREATER_THAN
        source:
          name: n
        threshold:
          value:
            double_value: 10
  apps:
    chat:
      name: chat-dev
      description: chat
      source_code_path: ./app
      resources:
        - name: warehouse
          sql_warehouse:
            id: ${resources.sql_warehouses.bi.id}
            permission: CAN_USE
`

// TestComputeTypesFromYAML loads a bundle with the compute and SQL types
// as a user writes it, the top-level permissions mapped onto each type,
// and deploys it.
func TestComputeTypesFromYAML(t *testing.T) {
	t.Parallel()
	srv, w := newServer(t, nil)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"databricks.yml":         computeYAML,
		"dash/sales.lvdash.json": `{"pages":[{"name":"p","displayName":"Sales"}]}`,
		"app/app.py":             "print('hi')\n",
	})
	u := bundle.NewUser(testUser)
	b, findings, err := bundle.Load(bundle.LoadOptions{Dir: dir, Target: "dev", CurrentUser: &u})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if f.Severity == diag.Error {
			t.Errorf("bundle: %v", f)
		}
	}
	if l := CheckSupported(b, nil, diag.Error); len(l) != 0 {
		t.Errorf("unsupported: %v", l)
	}
	files, err := bundle.Files(b)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := Apply(ctx, w, b, files, testOptions()); err != nil {
		t.Fatal(err)
	}

	if c := onlyCluster(t, srv); c.ClusterName != "etl-dev" || aclOf(srv, "clusters/"+c.ClusterId)["group:viewers"] != iam.PermissionLevelCanAttachTo {
		t.Errorf("cluster %s with permissions %v; want etl-dev, viewers CAN_ATTACH_TO", c.ClusterName, aclOf(srv, "clusters/"+c.ClusterId))
	}
	wh := onlyWarehouse(t, srv)
	if acl := aclOf(srv, "warehouses/"+wh.Id); acl["group:analysts"] != iam.PermissionLevelCanUse || acl["group:viewers"] != iam.PermissionLevelCanView {
		t.Errorf("warehouse permissions %v; want analysts CAN_USE, viewers CAN_VIEW", acl)
	}
	sc := srv.SecretScopes(testToken)["app-dev"]
	if sc.ACLs["writers"] != workspace.AclPermissionWrite || sc.ACLs["viewers"] != workspace.AclPermissionRead || sc.ACLs[testUser] != workspace.AclPermissionManage {
		t.Errorf("secret scope ACLs %v; want writers WRITE, viewers READ, the deployer MANAGE", sc.ACLs)
	}
	d := activeDashboards(srv)
	if len(d) != 1 || d[0].WarehouseId != wh.Id || !strings.Contains(d[0].SerializedDashboard, "Sales") ||
		aclOf(srv, "dashboards/"+d[0].DashboardId)["group:viewers"] != iam.PermissionLevelCanRead {
		t.Errorf("dashboards = %+v", d)
	}
	if a := activeAlerts(srv); len(a) != 1 || a[0].WarehouseId != wh.Id || aclOf(srv, "alertsv2/"+a[0].Id)["group:viewers"] != iam.PermissionLevelCanRead {
		t.Errorf("alerts = %+v", a)
	}
	app, ok := srv.Apps(testToken)["chat-dev"]
	if !ok || len(app.Resources) != 1 || app.Resources[0].SqlWarehouse == nil || app.Resources[0].SqlWarehouse.Id != wh.Id ||
		aclOf(srv, "apps/chat-dev")["group:viewers"] != iam.PermissionLevelCanUse {
		t.Errorf("app = %+v, %v", app, ok)
	}

	res, err := Apply(ctx, w, b, files, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed {
		t.Errorf("the second deploy changed %+v", res.Plan.Resources)
	}
	if err := Destroy(ctx, w, b, testOptions()); err != nil {
		t.Fatal(err)
	}
	if len(srv.Clusters(testToken))+len(srv.Warehouses(testToken))+len(srv.SecretScopes(testToken))+len(activeDashboards(srv))+len(srv.Alerts(testToken)) != 0 {
		t.Error("destroy left resources")
	}
}
