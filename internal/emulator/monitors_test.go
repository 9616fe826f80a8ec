package emulator_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/catalog"

	"github.com/brickci/brickci/internal/emulator"
)

func TestQualityMonitorLifecycle(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := emulator.NewWithOptions(emulator.Options{Clock: clock.Now, Config: emulator.Config{TaskDuration: time.Minute}})
	w, _ := newClient(t, srv, "t")
	ctx := context.Background()
	if err := srv.Seed("t", emulator.Seed{Tables: []string{"main.sales.orders"}, Schemas: []string{"main.monitoring"}}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	schedule := &catalog.MonitorCronSchedule{QuartzCronExpression: "0 0 12 * * ?", TimezoneId: "UTC"}
	req := catalog.CreateMonitor{TableName: "main.sales.orders", AssetsDir: "/Shared/monitors/orders", OutputSchemaName: "main.monitoring",
		Snapshot: &catalog.MonitorSnapshot{}, Schedule: schedule}

	bad := []struct {
		name   string
		mutate func(r *catalog.CreateMonitor)
		status int
		code   string
	}{
		{"missing table", func(r *catalog.CreateMonitor) { r.TableName = "main.sales.nope" }, 404, "TABLE_DOES_NOT_EXIST"},
		{"no assets_dir", func(r *catalog.CreateMonitor) { r.AssetsDir = "" }, 400, "INVALID_PARAMETER_VALUE"},
		{"no output schema", func(r *catalog.CreateMonitor) { r.OutputSchemaName = "" }, 400, "INVALID_PARAMETER_VALUE"},
		{"missing output schema", func(r *catalog.CreateMonitor) { r.OutputSchemaName = "main.nope" }, 404, "SCHEMA_DOES_NOT_EXIST"},
		{"no profile type", func(r *catalog.CreateMonitor) { r.Snapshot = nil }, 400, "INVALID_PARAMETER_VALUE"},
	}
	for _, tc := range bad {
		r := req
		tc.mutate(&r)
		_, err := w.QualityMonitors.Create(ctx, r)
		wantAPIError(t, tc.name, err, tc.status, tc.code)
	}

	created, err := w.QualityMonitors.Create(ctx, req)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.Status != catalog.MonitorInfoStatusMonitorStatusPending || created.TableName != "main.sales.orders" || created.MonitorVersion != 1 ||
		created.ProfileMetricsTableName != "main.monitoring.orders_profile_metrics" || created.Schedule == nil || created.Schedule.QuartzCronExpression != schedule.QuartzCronExpression {
		t.Errorf("created = %+v", created)
	}
	_, err = w.QualityMonitors.Create(ctx, req)
	if !errors.Is(err, apierr.ErrResourceAlreadyExists) {
		t.Errorf("second create: got %v, want RESOURCE_ALREADY_EXISTS", err)
	}
	clock.now = clock.now.Add(time.Minute)
	got, err := w.QualityMonitors.Get(ctx, catalog.GetQualityMonitorRequest{TableName: "main.sales.orders"})
	if err != nil || got.Status != catalog.MonitorInfoStatusMonitorStatusActive {
		t.Errorf("get after the delay = %+v, %v", got, err)
	}

	updated, err := w.QualityMonitors.Update(ctx, catalog.UpdateMonitor{TableName: "main.sales.orders", OutputSchemaName: "main.monitoring",
		Snapshot: &catalog.MonitorSnapshot{}, SlicingExprs: []string{"region"}})
	if err != nil || updated.MonitorVersion != 2 || updated.Schedule != nil || updated.AssetsDir != req.AssetsDir || len(updated.SlicingExprs) != 1 {
		t.Errorf("update = %+v, %v", updated, err)
	}

	refresh, err := w.QualityMonitors.RunRefresh(ctx, catalog.RunRefreshRequest{TableName: "main.sales.orders"})
	if err != nil || refresh.State != catalog.MonitorRefreshInfoStatePending || refresh.Trigger != catalog.MonitorRefreshInfoTriggerManual {
		t.Fatalf("run refresh = %+v, %v", refresh, err)
	}
	for _, step := range []struct {
		advance time.Duration
		want    catalog.MonitorRefreshInfoState
	}{{20 * time.Second, catalog.MonitorRefreshInfoStateRunning}, {40 * time.Second, catalog.MonitorRefreshInfoStateSuccess}} {
		clock.now = clock.now.Add(step.advance)
		r, err := w.QualityMonitors.GetRefresh(ctx, catalog.GetRefreshRequest{TableName: "main.sales.orders", RefreshId: refresh.RefreshId})
		if err != nil || r.State != step.want {
			t.Errorf("after %v: refresh = %+v, %v, want %s", step.advance, r, err, step.want)
		}
	}
	second, err := w.QualityMonitors.RunRefresh(ctx, catalog.RunRefreshRequest{TableName: "main.sales.orders"})
	if err != nil {
		t.Fatalf("second refresh: %v", err)
	}
	if err := w.QualityMonitors.CancelRefresh(ctx, catalog.CancelRefreshRequest{TableName: "main.sales.orders", RefreshId: second.RefreshId}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	clock.now = clock.now.Add(time.Hour)
	list, err := w.QualityMonitors.ListRefreshes(ctx, catalog.ListRefreshesRequest{TableName: "main.sales.orders"})
	if err != nil || len(list.Refreshes) != 2 || list.Refreshes[0].State != catalog.MonitorRefreshInfoStateCanceled || list.Refreshes[1].State != catalog.MonitorRefreshInfoStateSuccess {
		t.Errorf("refreshes = %+v, %v", list, err)
	}
	if got := srv.Monitors("t")["main.sales.orders"]; got.MonitorVersion != 2 || got.Status != catalog.MonitorInfoStatusMonitorStatusActive {
		t.Errorf("accessor = %+v", got)
	}

	if _, err := w.QualityMonitors.Delete(ctx, catalog.DeleteQualityMonitorRequest{TableName: "main.sales.orders"}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = w.QualityMonitors.Get(ctx, catalog.GetQualityMonitorRequest{TableName: "main.sales.orders"})
	wantAPIError(t, "get deleted", err, 404, "RESOURCE_DOES_NOT_EXIST")
}
