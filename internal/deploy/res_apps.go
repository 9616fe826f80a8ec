package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/brickci/brickci/internal/throttle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/apps"
	"github.com/databricks/databricks-sdk-go/service/iam"
)

// appWaitTimeout bounds the wait for an app update to finish and for an
// app of the same name to be deleted.
const appWaitTimeout = 15 * time.Minute

// appUpdateMask are the settings an app update changes, those the
// Databricks CLI sends.
var appUpdateMask = []string{"description", "budget_policy_id", "usage_policy_id", "resources", "user_api_scopes", "forward_user_access_token",
	"compute_size", "compute_min_instances", "compute_max_instances", "git_repository", "telemetry_export_destinations"}

// appsType deploys Databricks apps. An app's id is its name; a new name
// replaces it. It is created without compute, and its description,
// resources, scopes, compute size and the other settings of appUpdateMask
// are updated in place by an app update, which the deploy waits for. The
// app's code (source_code_path, config, git_source) is recorded but not
// deployed, and lifecycle.started is not applied: as with the Databricks
// CLI without lifecycle.started, the app is started and its code deployed
// by running it (`databricks bundle run`). A refresh checks only that it
// exists.
type appsType struct{}

func (appsType) group() string { return "apps" }
func (appsType) kind() string  { return "app" }
func (appsType) of(b *bundle.Bundle) []*bundle.Resource {
	return ofType(b, "apps")
}
func (appsType) label(_, id string) string    { return "app " + id }
func (appsType) name(s map[string]any) string { return nameOf(s) }
func (appsType) idIsName()                    {}

func (appsType) desired(_ *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	full := withDefaults(r, ids)
	req, norm, err := settingsOf[apps.App](full, ids, "app")
	if err != nil {
		return nil, nil, err
	}
	if req.Name == "" {
		return nil, nil, errNoName("app", r.Type, r.Key)
	}
	if c, ok := full.Config["config"]; ok {
		// config is the app.yaml the CLI writes; the SDK's App has no such
		// field, so it is recorded from the configuration as it is.
		m, err := normalise(map[string]any{"config": c})
		if err != nil {
			return nil, nil, err
		}
		norm["config"] = m["config"]
	}
	// The code settings are recorded; no request sends them.
	body := *req
	body.SourceCodePath, body.GitSource = "", nil
	return &body, norm, nil
}

// create makes the app without compute. A name still held by an app being
// deleted (one a re-create or an earlier deploy removed) is waited for.
func (appsType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	a := *req.(*apps.App)
	deadline := time.Now().Add(appWaitTimeout)
	pause := 100 * time.Millisecond
	for {
		wait, err := d.w.Apps.Create(ctx, apps.CreateAppRequest{App: a, NoCompute: true})
		if err == nil {
			return wait.Response.Name, wait.Response, nil
		}
		if !errors.Is(err, apierr.ErrResourceAlreadyExists) {
			return "", nil, err
		}
		got, gerr := d.w.Apps.GetByName(ctx, a.Name)
		switch {
		case apierr.IsMissing(gerr):
		case gerr != nil:
			return "", nil, err
		case got.ComputeStatus == nil || got.ComputeStatus.State != apps.ComputeStateDeleting:
			return "", nil, fmt.Errorf("%w; an app with this name exists already and no deployment of this bundle recorded it: delete it or choose another name", err)
		}
		if time.Now().After(deadline) {
			return "", nil, fmt.Errorf("app %s was still being deleted after %s: %w", a.Name, appWaitTimeout, err)
		}
		if err := throttle.Sleep(ctx, pause); err != nil {
			return "", nil, err
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// update sends an app update when a setting it changes differs, and waits
// for it; a change of the code settings alone sends nothing.
func (appsType) update(ctx context.Context, d *deployer, id string, old, norm map[string]any, req any) (string, any, error) {
	if !fieldsDiffer(old, norm, appUpdateMask) {
		return "", nil, nil
	}
	a := *req.(*apps.App)
	wait, err := d.w.Apps.CreateUpdate(ctx, apps.AsyncUpdateAppRequest{AppName: id, App: &a, UpdateMask: strings.Join(appUpdateMask, ",")})
	if err != nil {
		return "", nil, err
	}
	got, err := wait.GetWithTimeout(appWaitTimeout)
	if err != nil {
		if ctx.Err() != nil {
			return "", nil, fmt.Errorf("stopped waiting for the update of app %s: %w", id, ctx.Err())
		}
		return "", nil, fmt.Errorf("the update of app %s did not succeed: %w", id, err)
	}
	if got.Status == nil || got.Status.State != apps.AppUpdateUpdateStatusUpdateStateSucceeded {
		return "", nil, fmt.Errorf("the update of app %s ended %v", id, got.Status)
	}
	return "", nil, nil
}

func (appsType) remove(ctx context.Context, d *deployer, id string) error {
	_, err := d.w.Apps.DeleteByName(ctx, id)
	return err
}

func (appsType) replaces(id string, _, norm map[string]any) bool { return id != norm["name"] }

// read checks existence only; an app being deleted is missing.
func (appsType) read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error) {
	got, err := w.Apps.GetByName(ctx, id)
	if err != nil {
		return nil, err
	}
	if got.ComputeStatus != nil && got.ComputeStatus.State == apps.ComputeStateDeleting {
		return nil, fmt.Errorf("app %s is being deleted: %w", id, apierr.ErrNotFound)
	}
	return nil, nil
}

// find adopts the app called name when the deploying identity created it.
func (appsType) find(ctx context.Context, d *deployer, name string) (string, error) {
	got, err := d.w.Apps.GetByName(ctx, name)
	switch {
	case apierr.IsMissing(err):
		return "", nil
	case err != nil:
		return "", err
	case got.Creator != d.opts.User || (got.ComputeStatus != nil && got.ComputeStatus.State == apps.ComputeStateDeleting):
		return "", nil
	}
	return got.Name, nil
}

func (appsType) objectType() string              { return "apps" }
func (appsType) ownerLevel() iam.PermissionLevel { return iam.PermissionLevelCanManage }
func (appsType) objectID(id, _ string, _ any) string {
	return "/apps/" + id
}
func (appsType) lookupObjectID(_ context.Context, _ *deployer, id string) (string, error) {
	return "/apps/" + id, nil
}
