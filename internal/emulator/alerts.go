package emulator

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/sql"
)

// alertSettable are the fields of an alert an update mask may name.
var alertSettable = []string{"display_name", "query_text", "warehouse_id", "schedule", "evaluation", "custom_summary", "custom_description",
	"parameters", "parent_path", "run_as", "run_as_user_name"}

func errAlertMissing(id string) error {
	return errDoesNotExist("Alert %s does not exist.", id)
}

// checkAlert rejects an alert without what it needs to run.
func checkAlert(a *sql.AlertV2) error {
	switch {
	case a.DisplayName == "":
		return errInvalidParameter("display_name is required")
	case a.QueryText == "":
		return errInvalidParameter("query_text is required")
	case a.WarehouseId == "":
		return errInvalidParameter("warehouse_id is required")
	case a.Schedule.QuartzCronSchedule == "" || a.Schedule.TimezoneId == "":
		return errInvalidParameter("schedule needs quartz_cron_schedule and timezone_id")
	case a.Evaluation.Source.Name == "" || a.Evaluation.ComparisonOperator == "":
		return errInvalidParameter("evaluation needs a source column and a comparison_operator")
	case a.Evaluation.Threshold == nil && a.Evaluation.ComparisonOperator != sql.ComparisonOperatorIsNull && a.Evaluation.ComparisonOperator != sql.ComparisonOperatorIsNotNull:
		return errInvalidParameter("evaluation needs a threshold for comparison_operator %s", a.Evaluation.ComparisonOperator)
	}
	return nil
}

func handleAlertCreate(s *Server, c *call) (any, error) {
	var a sql.AlertV2
	if err := c.decode(&a); err != nil {
		return nil, err
	}
	if err := checkAlert(&a); err != nil {
		return nil, err
	}
	parent := "/Users/" + c.who.userName
	if a.ParentPath != "" {
		p, err := cleanPath(a.ParentPath)
		if err != nil {
			return nil, err
		}
		parent = p
	}
	if o, ok := c.ws.objects[parent]; !ok || o.kind != kindDirectory {
		return nil, errDoesNotExist("Path (%s) doesn't exist.", parent)
	}
	n := c.ws.newID()
	a.Id = fmt.Sprintf("%08x-2222-4000-8000-%012x", uint32(n), n)
	a.ParentPath, a.OwnerUserName = parent, c.who.userName
	a.CreateTime, a.UpdateTime, a.LifecycleState = rfc3339(c.now), rfc3339(c.now), sql.AlertLifecycleStateActive
	a.EffectiveRunAs = &sql.AlertV2RunAs{UserName: c.who.userName}
	if a.RunAs != nil {
		a.EffectiveRunAs = a.RunAs
	}
	a.Evaluation.State = sql.AlertEvaluationStateUnknown
	c.ws.alerts[a.Id] = &a
	owner := c.ws.owner()
	owner.PermissionLevel = iam.PermissionLevelCanManage
	acl, err := newACL(permissionTypes["alertsv2"], a.Id, []iam.AccessControlRequest{owner})
	if err != nil {
		return nil, err
	}
	c.ws.acls[aclKey("alertsv2", a.Id)] = acl
	return a, nil
}

func (ws *workspace) alert(id string, active bool) (*sql.AlertV2, error) {
	a, ok := ws.alerts[id]
	if !ok || (active && a.LifecycleState == sql.AlertLifecycleStateDeleted) {
		return nil, errAlertMissing(id)
	}
	return a, nil
}

func handleAlertGet(s *Server, c *call) (any, error) {
	return c.ws.alert(c.r.PathValue("id"), false)
}

func handleAlertList(s *Server, c *call) (any, error) {
	resp := sql.ListAlertsV2Response{}
	for _, id := range slices.Sorted(maps.Keys(c.ws.alerts)) {
		if a := c.ws.alerts[id]; a.LifecycleState != sql.AlertLifecycleStateDeleted {
			resp.Alerts = append(resp.Alerts, *a)
		}
	}
	return resp, nil
}

// handleAlertUpdate sets the fields update_mask names ("*": every
// settable one) from the body.
func handleAlertUpdate(s *Server, c *call) (any, error) {
	a, err := c.ws.alert(c.r.PathValue("id"), true)
	if err != nil {
		return nil, err
	}
	mask := c.query("update_mask")
	if mask == "" {
		return nil, errInvalidParameter("update_mask is required")
	}
	fields := strings.Split(mask, ",")
	if mask == "*" {
		fields = alertSettable
	}
	var src, dst map[string]any
	if err := c.decode(&src); err != nil {
		return nil, err
	}
	if err := convert(a, &dst); err != nil {
		return nil, err
	}
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if !slices.Contains(alertSettable, f) {
			return nil, errInvalidParameter("update_mask names %q, which cannot be updated; valid are %q", f, alertSettable)
		}
		if v, ok := src[f]; ok {
			dst[f] = v
		} else {
			delete(dst, f)
		}
	}
	var next sql.AlertV2
	if err := convert(dst, &next); err != nil {
		return nil, err
	}
	if err := checkAlert(&next); err != nil {
		return nil, err
	}
	if next.ParentPath == "" {
		next.ParentPath = a.ParentPath
	} else if p, err := cleanPath(next.ParentPath); err != nil {
		return nil, err
	} else if o, ok := c.ws.objects[p]; !ok || o.kind != kindDirectory {
		return nil, errDoesNotExist("Path (%s) doesn't exist.", p)
	} else {
		next.ParentPath = p
	}
	next.EffectiveRunAs = &sql.AlertV2RunAs{UserName: a.OwnerUserName}
	if next.RunAs != nil {
		next.EffectiveRunAs = next.RunAs
	}
	next.Id, next.CreateTime, next.OwnerUserName, next.LifecycleState = a.Id, a.CreateTime, a.OwnerUserName, a.LifecycleState
	next.UpdateTime = rfc3339(c.now)
	next.Evaluation.State, next.Evaluation.LastEvaluatedAt = a.Evaluation.State, a.Evaluation.LastEvaluatedAt
	*a = next
	return a, nil
}

// handleAlertTrash moves the alert to the trash (DELETED), or removes it
// with purge=true.
func handleAlertTrash(s *Server, c *call) (any, error) {
	id := c.r.PathValue("id")
	a, err := c.ws.alert(id, c.query("purge") != "true")
	if err != nil {
		return nil, err
	}
	if c.query("purge") == "true" {
		delete(c.ws.alerts, id)
		delete(c.ws.acls, aclKey("alertsv2", id))
		return nil, nil
	}
	a.LifecycleState = sql.AlertLifecycleStateDeleted
	return nil, nil
}

// Alerts returns alert id → alert (SQL alerts v2), trashed ones included.
func (s *Server) Alerts(key string) map[string]sql.AlertV2 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]sql.AlertV2{}
	if ws := s.peekWorkspace(key); ws != nil {
		for id, a := range ws.alerts {
			out[id] = normalized(*a)
		}
	}
	return out
}
