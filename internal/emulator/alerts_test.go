package emulator_test

import (
	"context"
	"testing"

	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/sql"

	"github.com/brickci/brickci/internal/emulator"
)

func testAlert(parent string) sql.AlertV2 {
	return sql.AlertV2{
		DisplayName: "errors", QueryText: "SELECT count(*) AS n FROM logs", WarehouseId: "wh1", ParentPath: parent,
		Schedule: sql.CronSchedule{QuartzCronSchedule: "0 0 * * * ?", TimezoneId: "UTC"},
		Evaluation: sql.AlertV2Evaluation{ComparisonOperator: sql.ComparisonOperatorGreaterThan, Source: sql.AlertV2OperandColumn{Name: "n"},
			Threshold: &sql.AlertV2Operand{Value: &sql.AlertV2OperandValue{DoubleValue: 10}}},
	}
}

// TestAlertLifecycle creates, updates, trashes and purges SQL alerts (v2)
// with the SDK's client.
func TestAlertLifecycle(t *testing.T) {
	t.Parallel()
	srv := emulator.New()
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	parent := "/Workspace/Users/" + emulator.DefaultUserName + "/alerts"

	_, err := w.AlertsV2.CreateAlert(ctx, sql.CreateAlertV2Request{Alert: testAlert(parent)})
	wantAPIError(t, "create in a missing folder", err, 404, "RESOURCE_DOES_NOT_EXIST")
	if err := w.Workspace.MkdirsByPath(ctx, parent); err != nil {
		t.Fatal(err)
	}
	bad := testAlert(parent)
	bad.Evaluation.Threshold = nil
	_, err = w.AlertsV2.CreateAlert(ctx, sql.CreateAlertV2Request{Alert: bad})
	wantAPIError(t, "no threshold", err, 400, "INVALID_PARAMETER_VALUE")
	bad = testAlert(parent)
	bad.Schedule = sql.CronSchedule{}
	_, err = w.AlertsV2.CreateAlert(ctx, sql.CreateAlertV2Request{Alert: bad})
	wantAPIError(t, "no schedule", err, 400, "INVALID_PARAMETER_VALUE")

	a, err := w.AlertsV2.CreateAlert(ctx, sql.CreateAlertV2Request{Alert: testAlert(parent)})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if a.Id == "" || a.LifecycleState != sql.AlertLifecycleStateActive || a.OwnerUserName != emulator.DefaultUserName || a.ParentPath != "/Users/"+emulator.DefaultUserName+"/alerts" ||
		a.EffectiveRunAs == nil || a.Evaluation.State != sql.AlertEvaluationStateUnknown {
		t.Errorf("created = %+v", a)
	}

	// Update with the mask "*" replaces every settable field.
	next := testAlert("")
	next.DisplayName, next.QueryText, next.CustomSummary = "errors2", "SELECT 1 AS n", "too many errors"
	u, err := w.AlertsV2.UpdateAlert(ctx, sql.UpdateAlertV2Request{Id: a.Id, Alert: next, UpdateMask: "*"})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if u.DisplayName != "errors2" || u.QueryText != "SELECT 1 AS n" || u.CustomSummary != "too many errors" || u.Id != a.Id || u.CreateTime != a.CreateTime || u.ParentPath != a.ParentPath {
		t.Errorf("updated = %+v", u)
	}
	_, err = w.AlertsV2.UpdateAlert(ctx, sql.UpdateAlertV2Request{Id: a.Id, Alert: next, UpdateMask: "id"})
	wantAPIError(t, "a mask naming id", err, 400, "INVALID_PARAMETER_VALUE")
	if u, err := w.AlertsV2.UpdateAlert(ctx, sql.UpdateAlertV2Request{Id: a.Id, Alert: sql.AlertV2{CustomSummary: "only this"}, UpdateMask: "custom_summary"}); err != nil || u.CustomSummary != "only this" || u.DisplayName != "errors2" {
		t.Errorf("masked update = %+v, %v", u, err)
	}

	if _, err := w.Permissions.Set(ctx, iam.SetObjectPermissions{RequestObjectType: "alertsv2", RequestObjectId: a.Id,
		AccessControlList: []iam.AccessControlRequest{{GroupName: "users", PermissionLevel: iam.PermissionLevelCanRun}}}); err != nil {
		t.Errorf("set permissions: %v", err)
	}
	list, err := w.AlertsV2.ListAlertsAll(ctx, sql.ListAlertsV2Request{})
	if err != nil || len(list) != 1 {
		t.Errorf("list = %+v, %v", list, err)
	}

	// Trash keeps it DELETED; purge removes it.
	if err := w.AlertsV2.TrashAlert(ctx, sql.TrashAlertV2Request{Id: a.Id}); err != nil {
		t.Fatalf("trash: %v", err)
	}
	if got, err := w.AlertsV2.GetAlertById(ctx, a.Id); err != nil || got.LifecycleState != sql.AlertLifecycleStateDeleted {
		t.Errorf("trashed = %+v, %v", got, err)
	}
	_, err = w.AlertsV2.UpdateAlert(ctx, sql.UpdateAlertV2Request{Id: a.Id, Alert: next, UpdateMask: "*"})
	wantAPIError(t, "update a trashed alert", err, 404, "RESOURCE_DOES_NOT_EXIST")
	if err := w.AlertsV2.TrashAlert(ctx, sql.TrashAlertV2Request{Id: a.Id, Purge: true, ForceSendFields: []string{"Purge"}}); err != nil {
		t.Fatalf("purge: %v", err)
	}
	_, err = w.AlertsV2.GetAlertById(ctx, a.Id)
	wantAPIError(t, "get a purged alert", err, 404, "RESOURCE_DOES_NOT_EXIST")
	if _, ok := srv.Permissions("t")["alertsv2/"+a.Id]; ok {
		t.Error("the permissions of the purged alert are left")
	}
}
