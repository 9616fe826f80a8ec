package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/databricks/databricks-sdk-go/service/catalog"
)

// monitor is a quality monitor of a table. It is MONITOR_STATUS_PENDING
// until activeAt, then MONITOR_STATUS_ACTIVE; the status is computed when
// read, from the clock.
type monitor struct {
	info      catalog.MonitorInfo
	activeAt  time.Time
	refreshes []*monitorRefresh
}

// monitorRefresh is one refresh of a monitor: PENDING, RUNNING from start,
// then SUCCESS at end, unless canceled before.
type monitorRefresh struct {
	id         int64
	trigger    catalog.MonitorRefreshInfoTrigger
	created    time.Time
	start      time.Time
	end        time.Time
	canceledAt time.Time
}

func (m *monitor) view(now time.Time) catalog.MonitorInfo {
	out := m.info
	out.Status = catalog.MonitorInfoStatusMonitorStatusPending
	if !now.Before(m.activeAt) {
		out.Status = catalog.MonitorInfoStatusMonitorStatusActive
	}
	return out
}

func (r *monitorRefresh) view(now time.Time) catalog.MonitorRefreshInfo {
	out := catalog.MonitorRefreshInfo{RefreshId: r.id, Trigger: r.trigger, StartTimeMs: millis(r.created)}
	at := now
	canceled := !r.canceledAt.IsZero() && !r.canceledAt.After(now)
	if canceled {
		at = r.canceledAt
	}
	switch {
	case !at.Before(r.end):
		out.State, out.EndTimeMs = catalog.MonitorRefreshInfoStateSuccess, millis(r.end)
		return out
	case canceled:
		out.State, out.EndTimeMs, out.Message = catalog.MonitorRefreshInfoStateCanceled, millis(r.canceledAt), "the refresh was canceled"
	case at.Before(r.start):
		out.State = catalog.MonitorRefreshInfoStatePending
	default:
		out.State = catalog.MonitorRefreshInfoStateRunning
	}
	return out
}

func (ws *workspace) monitor(table string) (*monitor, error) {
	t, err := ws.uc.table(table)
	if err != nil {
		return nil, err
	}
	m, ok := ws.monitors[t.FullName]
	if !ok {
		return nil, errDoesNotExist("Monitor for table '%s' does not exist.", t.FullName)
	}
	return m, nil
}

// monitorConfig checks the settings create and update share.
func (ws *workspace) monitorConfig(outputSchema string, profiles int) (*catalog.SchemaInfo, error) {
	if outputSchema == "" {
		return nil, errInvalidParameter("output_schema_name is required")
	}
	if profiles != 1 {
		return nil, errInvalidParameter("exactly one of inference_log, snapshot and time_series must be given, got %d", profiles)
	}
	return ws.uc.schema(outputSchema)
}

func countProfiles(values ...bool) int {
	n := 0
	for _, v := range values {
		if v {
			n++
		}
	}
	return n
}

func handleMonitorCreate(s *Server, c *call) (any, error) {
	var req catalog.CreateMonitor
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	t, err := c.ws.uc.table(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	if req.AssetsDir == "" {
		return nil, errInvalidParameter("assets_dir is required")
	}
	out, err := c.ws.monitorConfig(req.OutputSchemaName, countProfiles(req.InferenceLog != nil, req.Snapshot != nil, req.TimeSeries != nil))
	if err != nil {
		return nil, err
	}
	if _, ok := c.ws.monitors[t.FullName]; ok {
		return nil, newError(http.StatusConflict, "RESOURCE_ALREADY_EXISTS", "Monitor for table '%s' already exists.", t.FullName)
	}
	var info catalog.MonitorInfo
	if err := convert(req, &info); err != nil {
		return nil, err
	}
	info.TableName, info.OutputSchemaName, info.MonitorVersion = t.FullName, out.FullName, 1
	info.ProfileMetricsTableName = out.FullName + "." + t.Name + "_profile_metrics"
	info.DriftMetricsTableName = out.FullName + "." + t.Name + "_drift_metrics"
	if !req.SkipBuiltinDashboard {
		info.DashboardId = fmt.Sprintf("%032x", c.ws.newID())
	}
	m := &monitor{info: info, activeAt: c.now.Add(s.taskDurationLocked())}
	c.ws.monitors[t.FullName] = m
	return m.view(c.now), nil
}

func handleMonitorGet(s *Server, c *call) (any, error) {
	m, err := c.ws.monitor(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	return m.view(c.now), nil
}

func handleMonitorUpdate(s *Server, c *call) (any, error) {
	var req catalog.UpdateMonitor
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	m, err := c.ws.monitor(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	out, err := c.ws.monitorConfig(req.OutputSchemaName, countProfiles(req.InferenceLog != nil, req.Snapshot != nil, req.TimeSeries != nil))
	if err != nil {
		return nil, err
	}
	// An update replaces the configuration; what identifies the monitor
	// and its assets stays.
	var info catalog.MonitorInfo
	if err := convert(req, &info); err != nil {
		return nil, err
	}
	info.TableName, info.OutputSchemaName, info.AssetsDir = m.info.TableName, out.FullName, m.info.AssetsDir
	info.ProfileMetricsTableName, info.DriftMetricsTableName = m.info.ProfileMetricsTableName, m.info.DriftMetricsTableName
	if info.DashboardId == "" {
		info.DashboardId = m.info.DashboardId
	}
	info.MonitorVersion = m.info.MonitorVersion + 1
	m.info = info
	return m.view(c.now), nil
}

func handleMonitorDelete(s *Server, c *call) (any, error) {
	m, err := c.ws.monitor(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	delete(c.ws.monitors, m.info.TableName)
	return nil, nil
}

func handleMonitorRunRefresh(s *Server, c *call) (any, error) {
	m, err := c.ws.monitor(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	d := s.taskDurationLocked()
	r := &monitorRefresh{id: c.ws.newID(), trigger: catalog.MonitorRefreshInfoTriggerManual, created: c.now, start: c.now.Add(d / 4), end: c.now.Add(d)}
	m.refreshes = append(m.refreshes, r)
	return r.view(c.now), nil
}

func (m *monitor) refresh(c *call) (*monitorRefresh, error) {
	id, err := strconv.ParseInt(c.r.PathValue("refresh"), 10, 64)
	if err != nil {
		return nil, errInvalidParameter("refresh id %q is not an integer", c.r.PathValue("refresh"))
	}
	for _, r := range m.refreshes {
		if r.id == id {
			return r, nil
		}
	}
	return nil, errDoesNotExist("Refresh %d of the monitor of table '%s' does not exist.", id, m.info.TableName)
}

func handleMonitorGetRefresh(s *Server, c *call) (any, error) {
	m, err := c.ws.monitor(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	r, err := m.refresh(c)
	if err != nil {
		return nil, err
	}
	return r.view(c.now), nil
}

func handleMonitorCancelRefresh(s *Server, c *call) (any, error) {
	m, err := c.ws.monitor(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	r, err := m.refresh(c)
	if err != nil {
		return nil, err
	}
	if r.canceledAt.IsZero() && c.now.Before(r.end) {
		r.canceledAt = c.now
	}
	return nil, nil
}

func handleMonitorListRefreshes(s *Server, c *call) (any, error) {
	m, err := c.ws.monitor(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	resp := catalog.MonitorRefreshListResponse{}
	// Newest first.
	for i := len(m.refreshes) - 1; i >= 0; i-- {
		resp.Refreshes = append(resp.Refreshes, m.refreshes[i].view(c.now))
	}
	return resp, nil
}
