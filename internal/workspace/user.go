package workspace

import (
	"context"
	"fmt"

	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/iam"
	sdkworkspace "github.com/databricks/databricks-sdk-go/service/workspace"

	"github.com/brickci/brickci/internal/bundle"
)

// UserError is the error of a failed read of the current user: the
// workspace at Host could not say who the client authenticates as.
type UserError struct {
	Host string
	Err  error
}

// Error says which host was asked and why it failed.
func (e *UserError) Error() string {
	return fmt.Sprintf("failed to read the current user from %s: %v", e.Host, e.Err)
}

// Unwrap returns the workspace's error.
func (e *UserError) Unwrap() error { return e.Err }

// CurrentUser reads the identity the client authenticates as. A service
// principal's user name is an application id, so its short name (which
// development mode puts in names and paths) comes from its display name,
// as the Databricks CLI does.
func CurrentUser(ctx context.Context, w *databricks.WorkspaceClient) (bundle.User, error) {
	me, err := w.CurrentUser.Me(ctx, iam.MeRequest{})
	if err != nil {
		return bundle.User{}, &UserError{Host: w.Config.Host, Err: err}
	}
	user := bundle.NewUser(me.UserName)
	if user.IsServicePrincipal && me.DisplayName != "" {
		user.ShortName = bundle.NewUser(me.DisplayName).ShortName
	}
	return user, nil
}

// DeploymentExists reports whether anything of a target's deployment is
// left in the workspace: its root path, or its state or file path when
// those lie elsewhere. A second destroy finds none.
func DeploymentExists(ctx context.Context, w *databricks.WorkspaceClient, ws bundle.Workspace) (bool, error) {
	for _, p := range []string{ws.RootPath, ws.StatePath, ws.FilePath} {
		if p == "" {
			continue
		}
		_, err := w.Workspace.GetStatus(ctx, sdkworkspace.GetStatusRequest{Path: p})
		switch {
		case err == nil:
			return true, nil
		case !apierr.IsMissing(err):
			return false, err
		}
	}
	return false, nil
}
