package emulator

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go/service/apps"
	"github.com/databricks/databricks-sdk-go/service/iam"
)

// app is a Databricks app. Its compute starts (STARTING, then ACTIVE) unless
// it was created without compute (STOPPED); an update of its settings is
// IN_PROGRESS, then SUCCEEDED; a deleted app is DELETING, then gone. Each
// transition takes the task duration and is settled when the app is read.
type app struct {
	info          apps.App
	computeNext   apps.ComputeState
	computeUntil  time.Time
	update        *apps.AppUpdate
	updateUntil   time.Time
	deletingUntil time.Time
	// deployments are the app's deployments by id; the pending one
	// succeeds at deployUntil.
	deployments map[string]*apps.AppDeployment
	deployUntil time.Time
}

var appName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,28}[a-z0-9]$`)

// appUpdateFields are the fields an update mask may name.
var appUpdateFields = []string{"description", "budget_policy_id", "usage_policy_id", "resources", "user_api_scopes", "forward_user_access_token",
	"compute_size", "compute_min_instances", "compute_max_instances", "git_repository", "telemetry_export_destinations"}

func (a *app) settle(now time.Time) {
	if a.computeNext != "" && !now.Before(a.computeUntil) {
		a.info.ComputeStatus = &apps.ComputeStatus{State: a.computeNext, Message: "App compute is " + strings.ToLower(string(a.computeNext)) + "."}
		if a.computeNext == apps.ComputeStateActive {
			a.info.ComputeStatus.ActiveInstances = max(a.info.ComputeMinInstances, 1)
		}
		a.computeNext = ""
	}
	if d := a.info.PendingDeployment; d != nil && !now.Before(a.deployUntil) {
		st := a.deployments[d.DeploymentId]
		st.Status = &apps.AppDeploymentStatus{State: apps.AppDeploymentStateSucceeded, Message: "App started successfully."}
		st.UpdateTime = rfc3339(a.deployUntil)
		done := *st
		a.info.ActiveDeployment, a.info.PendingDeployment = &done, nil
		a.info.DefaultSourceCodePath = done.SourceCodePath
		a.info.AppStatus = &apps.ApplicationStatus{State: apps.ApplicationStateRunning, Message: "App has status: App is running"}
	}
	if a.update != nil && a.update.Status.State == apps.AppUpdateUpdateStatusUpdateStateInProgress && !now.Before(a.updateUntil) {
		a.update.Status = &apps.AppUpdateUpdateStatus{State: apps.AppUpdateUpdateStatusUpdateStateSucceeded, Message: "App updated successfully."}
	}
}

func (a *app) computeState() apps.ComputeState {
	if a.info.ComputeStatus == nil {
		return apps.ComputeStateStopped
	}
	return a.info.ComputeStatus.State
}

func (a *app) deleted(now time.Time) bool {
	return !a.deletingUntil.IsZero() && !now.Before(a.deletingUntil)
}

func errAppMissing(name string) error {
	return errDoesNotExist("App with name %s does not exist or is deleted.", name)
}

// appNamed returns the app called name; a deleted one is removed once its
// deletion has finished.
func (ws *workspace) appNamed(name string, now time.Time) (*app, error) {
	a, ok := ws.apps[name]
	if ok && a.deleted(now) {
		delete(ws.apps, name)
		ok = false
	}
	if !ok {
		return nil, errAppMissing(name)
	}
	a.settle(now)
	return a, nil
}

func handleAppCreate(s *Server, c *call) (any, error) {
	var req apps.App
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if !appName.MatchString(req.Name) {
		return nil, errInvalidParameter("App name %q is not valid: use 2 to 30 lowercase letters, digits and '-', starting and ending with a letter or digit", req.Name)
	}
	if _, err := c.ws.appNamed(req.Name, c.now); err == nil {
		return nil, newError(http.StatusConflict, "RESOURCE_ALREADY_EXISTS", "App with name %s already exists.", req.Name)
	}
	if req.ComputeSize == "" {
		req.ComputeSize = apps.ComputeSizeMedium
	}
	n := c.ws.newID()
	a := &app{info: req}
	i := &a.info
	i.Id = fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(n), n)
	i.Creator, i.Updater, i.CreateTime, i.UpdateTime = c.who.userName, c.who.userName, rfc3339(c.now), rfc3339(c.now)
	i.Url = fmt.Sprintf("https://%s-%d.aws.databricksapps.com", req.Name, c.ws.userID%1000000)
	i.ServicePrincipalId, i.ServicePrincipalName = n, "app-"+req.Name
	i.ServicePrincipalClientId = fmt.Sprintf("%08x-1111-4000-8000-%012x", uint32(n), n)
	i.DefaultSourceCodePath = ""
	i.AppStatus = &apps.ApplicationStatus{State: apps.ApplicationStateUnavailable, Message: "App has not been deployed yet."}
	i.ActiveDeployment, i.PendingDeployment = nil, nil
	if c.query("no_compute") == "true" {
		i.ComputeStatus = &apps.ComputeStatus{State: apps.ComputeStateStopped, Message: "App compute is stopped."}
	} else {
		i.ComputeStatus = &apps.ComputeStatus{State: apps.ComputeStateStarting, Message: "App compute is starting."}
		a.computeNext, a.computeUntil = apps.ComputeStateActive, c.now.Add(s.taskDurationLocked())
	}
	c.ws.apps[req.Name] = a
	owner := c.ws.owner()
	owner.PermissionLevel = iam.PermissionLevelCanManage
	acl, err := newACL(permissionTypes["apps"], req.Name, []iam.AccessControlRequest{owner})
	if err != nil {
		return nil, err
	}
	c.ws.acls[aclKey("apps", req.Name)] = acl
	return a.info, nil
}

func handleAppGet(s *Server, c *call) (any, error) {
	a, err := c.ws.appNamed(c.r.PathValue("name"), c.now)
	if err != nil {
		return nil, err
	}
	return a.info, nil
}

func handleAppList(s *Server, c *call) (any, error) {
	resp := apps.ListAppsResponse{}
	for _, name := range slices.Sorted(maps.Keys(c.ws.apps)) {
		if a, err := c.ws.appNamed(name, c.now); err == nil {
			resp.Apps = append(resp.Apps, a.info)
		}
	}
	return resp, nil
}

// handleAppUpdate starts an update of the fields the mask names (a
// comma-separated list, or "*" for all of them).
func handleAppUpdate(s *Server, c *call) (any, error) {
	var req apps.AsyncUpdateAppRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	a, err := c.ws.appNamed(c.r.PathValue("name"), c.now)
	if err != nil {
		return nil, err
	}
	if a.info.ComputeStatus != nil && a.info.ComputeStatus.State == apps.ComputeStateDeleting {
		return nil, errAppMissing(a.info.Name)
	}
	if a.update != nil && a.update.Status.State == apps.AppUpdateUpdateStatusUpdateStateInProgress {
		return nil, errConflict("App %s is being updated; wait for the update to finish.", a.info.Name)
	}
	if req.App == nil {
		return nil, errInvalidParameter("app is required")
	}
	if req.UpdateMask == "" {
		return nil, errInvalidParameter("update_mask is required")
	}
	fields := strings.Split(req.UpdateMask, ",")
	if req.UpdateMask == "*" {
		fields = appUpdateFields
	}
	var src, dst map[string]any
	if err := convert(req.App, &src); err != nil {
		return nil, err
	}
	if err := convert(a.info, &dst); err != nil {
		return nil, err
	}
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if !slices.Contains(appUpdateFields, f) {
			return nil, errInvalidParameter("update_mask names %q, which cannot be updated; valid are %q", f, appUpdateFields)
		}
		if v, ok := src[f]; ok {
			dst[f] = v
		} else {
			delete(dst, f)
		}
	}
	var next apps.App
	if err := convert(dst, &next); err != nil {
		return nil, err
	}
	if next.ComputeSize == "" {
		next.ComputeSize = apps.ComputeSizeMedium
	}
	next.Updater, next.UpdateTime = c.who.userName, rfc3339(c.now)
	a.info = next
	var u apps.AppUpdate
	if err := convert(next, &u); err != nil {
		return nil, err
	}
	u.Status = &apps.AppUpdateUpdateStatus{State: apps.AppUpdateUpdateStatusUpdateStateInProgress, Message: "App update is in progress."}
	a.update, a.updateUntil = &u, c.now.Add(s.taskDurationLocked())
	return u, nil
}

func handleAppGetUpdate(s *Server, c *call) (any, error) {
	a, err := c.ws.appNamed(c.r.PathValue("name"), c.now)
	if err != nil {
		return nil, err
	}
	if a.update == nil {
		return apps.AppUpdate{Status: &apps.AppUpdateUpdateStatus{State: apps.AppUpdateUpdateStatusUpdateStateNotUpdated}}, nil
	}
	return *a.update, nil
}

// handleAppDelete starts deleting the app: it is DELETING, its name still
// taken, until the task duration has passed.
func handleAppDelete(s *Server, c *call) (any, error) {
	a, err := c.ws.appNamed(c.r.PathValue("name"), c.now)
	if err != nil {
		return nil, err
	}
	if a.info.ComputeStatus != nil && a.info.ComputeStatus.State == apps.ComputeStateDeleting {
		return nil, errAppMissing(a.info.Name)
	}
	a.info.ComputeStatus = &apps.ComputeStatus{State: apps.ComputeStateDeleting, Message: "App is being deleted."}
	a.computeNext = ""
	a.deletingUntil = c.now.Add(s.taskDurationLocked())
	delete(c.ws.acls, aclKey("apps", a.info.Name))
	return a.info, nil
}

// handleAppDeploy deploys the app's code: the deployment is IN_PROGRESS
// (the app DEPLOYING), then SUCCEEDED and the app's active deployment
// (RUNNING). The app's compute must be active.
func handleAppDeploy(s *Server, c *call) (any, error) {
	var req apps.AppDeployment
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	a, err := c.ws.appNamed(c.r.PathValue("name"), c.now)
	if err != nil {
		return nil, err
	}
	if st := a.computeState(); st != apps.ComputeStateActive {
		return nil, errInvalidParameter("App %s cannot be deployed: its compute is %s; start the app first", a.info.Name, st)
	}
	if a.info.PendingDeployment != nil {
		return nil, errConflict("App %s has a deployment in progress (%s).", a.info.Name, a.info.PendingDeployment.DeploymentId)
	}
	if req.SourceCodePath == "" && req.GitSource == nil {
		return nil, errInvalidParameter("source_code_path or git_source is required")
	}
	if req.SourceCodePath != "" {
		p, err := cleanPath(req.SourceCodePath)
		if err != nil {
			return nil, err
		}
		if o, ok := c.ws.objects[p]; !ok || o.kind != kindDirectory {
			return nil, errDoesNotExist("Source code path %s does not exist.", req.SourceCodePath)
		}
	}
	n := c.ws.newID()
	req.DeploymentId = fmt.Sprintf("%032x", n)
	req.Creator, req.CreateTime, req.UpdateTime = c.who.userName, rfc3339(c.now), rfc3339(c.now)
	if req.Mode == "" {
		req.Mode = apps.AppDeploymentModeSnapshot
	}
	req.Status = &apps.AppDeploymentStatus{State: apps.AppDeploymentStateInProgress, Message: "App deployment is in progress."}
	if a.deployments == nil {
		a.deployments = map[string]*apps.AppDeployment{}
	}
	a.deployments[req.DeploymentId] = &req
	pending := req
	a.info.PendingDeployment, a.deployUntil = &pending, c.now.Add(s.taskDurationLocked())
	a.info.AppStatus = &apps.ApplicationStatus{State: apps.ApplicationStateDeploying, Message: "App is being deployed."}
	return req, nil
}

func handleAppGetDeployment(s *Server, c *call) (any, error) {
	a, err := c.ws.appNamed(c.r.PathValue("name"), c.now)
	if err != nil {
		return nil, err
	}
	d, ok := a.deployments[c.r.PathValue("deployment")]
	if !ok {
		return nil, errDoesNotExist("Deployment %s of app %s does not exist.", c.r.PathValue("deployment"), a.info.Name)
	}
	return *d, nil
}

// handleAppStart starts a stopped app's compute (STARTING, then ACTIVE).
func handleAppStart(s *Server, c *call) (any, error) {
	a, err := c.ws.appNamed(c.r.PathValue("name"), c.now)
	if err != nil {
		return nil, err
	}
	switch a.computeState() {
	case apps.ComputeStateStopped, apps.ComputeStateError:
		a.info.ComputeStatus = &apps.ComputeStatus{State: apps.ComputeStateStarting, Message: "App compute is starting."}
		a.computeNext, a.computeUntil = apps.ComputeStateActive, c.now.Add(s.taskDurationLocked())
	case apps.ComputeStateDeleting:
		return nil, errAppMissing(a.info.Name)
	}
	return a.info, nil
}

// handleAppStop stops the app's compute (STOPPING, then STOPPED); the app
// is then unavailable.
func handleAppStop(s *Server, c *call) (any, error) {
	a, err := c.ws.appNamed(c.r.PathValue("name"), c.now)
	if err != nil {
		return nil, err
	}
	switch a.computeState() {
	case apps.ComputeStateActive, apps.ComputeStateStarting:
		a.info.ComputeStatus = &apps.ComputeStatus{State: apps.ComputeStateStopping, Message: "App compute is stopping."}
		a.computeNext, a.computeUntil = apps.ComputeStateStopped, c.now.Add(s.taskDurationLocked())
		a.info.AppStatus = &apps.ApplicationStatus{State: apps.ApplicationStateUnavailable, Message: "App is stopped."}
	case apps.ComputeStateDeleting:
		return nil, errAppMissing(a.info.Name)
	}
	return a.info, nil
}

// Apps returns app name → app as the get call reports it now; apps whose
// deletion has finished are left out.
func (s *Server) Apps(key string) map[string]apps.App {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]apps.App{}
	if ws := s.peekWorkspace(key); ws != nil {
		now := s.clock()
		for name := range ws.apps {
			if a, err := ws.appNamed(name, now); err == nil {
				out[name] = normalized(a.info)
			}
		}
	}
	return out
}
