package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/dashboards"
	"github.com/databricks/databricks-sdk-go/service/iam"
)

// dashboardsType deploys AI/BI (Lakeview) dashboards. A dashboard's id is
// its dashboard_id. Its name, warehouse, content (serialized_dashboard,
// or the .lvdash.json file that file_path names) and the dataset catalog
// and schema are updated in place, and every create or update publishes
// it (with embed_credentials), as the Databricks CLI does; a new
// parent_path (default workspace.resource_path) replaces it. A removed
// dashboard is moved to the trash. A refresh checks only that it exists
// and is not trashed: the workspace rewrites a dashboard's content, so
// comparing it would report changes nobody made.
type dashboardsType struct{}

// dashboardState is what a deploy sends for a dashboard and records.
type dashboardState struct {
	DisplayName         string `json:"display_name"`
	ParentPath          string `json:"parent_path"`
	WarehouseID         string `json:"warehouse_id,omitempty"`
	SerializedDashboard string `json:"serialized_dashboard,omitempty"`
	EmbedCredentials    bool   `json:"embed_credentials"`
	DatasetCatalog      string `json:"dataset_catalog,omitempty"`
	DatasetSchema       string `json:"dataset_schema,omitempty"`
}

// dashboardConfig is a dashboard as a bundle configures it.
type dashboardConfig struct {
	dashboardState
	FilePath   string `json:"file_path"`
	Serialized any    `json:"serialized_dashboard"`
}

func (dashboardsType) group() string { return "dashboards" }
func (dashboardsType) kind() string  { return "dashboard" }
func (dashboardsType) of(b *bundle.Bundle) []*bundle.Resource {
	return ofType(b, "dashboards")
}
func (dashboardsType) label(key, id string) string {
	return fmt.Sprintf("dashboard %s (id %s)", key, id)
}
func (dashboardsType) name(s map[string]any) string {
	n, _ := s["display_name"].(string)
	return n
}

// withWorkspacePrefix puts the /Workspace prefix on a workspace path, as the
// CLI's default resource path has it (the dashboards API leaves it out).
func withWorkspacePrefix(p string) string {
	if p == "/Workspace" || strings.HasPrefix(p, "/Workspace/") {
		return p
	}
	return path.Join("/Workspace", p)
}

func (dashboardsType) desired(b *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	raw, err := json.Marshal(withDefaults(r, ids).Config)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode dashboard %q: %w", r.Key, err)
	}
	var c dashboardConfig
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, nil, fmt.Errorf("failed to read the settings of dashboard %q: %w", r.Key, err)
	}
	s := c.dashboardState
	if s.DisplayName == "" {
		return nil, nil, fmt.Errorf("dashboard %q has no name; set resources.dashboards.%s.display_name", r.Key, r.Key)
	}
	switch v := c.Serialized.(type) {
	case nil:
	case string:
		s.SerializedDashboard = v
	default:
		out, err := json.Marshal(v)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to encode the serialized_dashboard of dashboard %q: %w", r.Key, err)
		}
		s.SerializedDashboard = string(out)
	}
	if c.FilePath != "" && c.Serialized == nil {
		content, err := os.ReadFile(localPath(b, r, c.FilePath))
		if err != nil {
			return nil, nil, fmt.Errorf("failed to read the file_path of dashboard %q: %w", r.Key, err)
		}
		s.SerializedDashboard = string(content)
	}
	if s.ParentPath == "" {
		s.ParentPath = defaultParent(b)
	}
	s.ParentPath = withWorkspacePrefix(path.Clean(s.ParentPath))
	norm, err := normalise(s)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode dashboard %q: %w", r.Key, err)
	}
	return &s, norm, nil
}

// localPath is where a file a resource names (a file_path) is: relative to
// the configuration file that defines the resource.
func localPath(b *bundle.Bundle, r *bundle.Resource, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	dir := b.Dir
	if f := r.Location.File; f != "" {
		if !filepath.IsAbs(f) {
			f = filepath.Join(b.Dir, f)
		}
		dir = filepath.Dir(f)
	}
	return filepath.Join(dir, filepath.FromSlash(p))
}

// defaultParent is the parent_path of a dashboard or alert that names
// none: workspace.resource_path.
func defaultParent(b *bundle.Bundle) string {
	if b.Workspace.ResourcePath != "" {
		return b.Workspace.ResourcePath
	}
	return b.Workspace.RootPath + "/resources"
}

func (s *dashboardState) draft() dashboards.Dashboard {
	return dashboards.Dashboard{DisplayName: s.DisplayName, ParentPath: s.ParentPath, WarehouseId: s.WarehouseID, SerializedDashboard: s.SerializedDashboard}
}

func (s *dashboardState) publish(ctx context.Context, d *deployer, id string) error {
	_, err := d.w.Lakeview.Publish(ctx, dashboards.PublishRequest{DashboardId: id, EmbedCredentials: s.EmbedCredentials, WarehouseId: s.WarehouseID,
		ForceSendFields: []string{"EmbedCredentials"}})
	if err != nil {
		return fmt.Errorf("failed to publish dashboard %s: %w", id, err)
	}
	return nil
}

// create makes the parent folder when it is missing, creates the
// dashboard and publishes it; one that cannot be published is trashed.
func (dashboardsType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	s := req.(*dashboardState)
	c := dashboards.CreateDashboardRequest{Dashboard: s.draft(), DatasetCatalog: s.DatasetCatalog, DatasetSchema: s.DatasetSchema}
	got, err := d.w.Lakeview.Create(ctx, c)
	if apierr.IsMissing(err) {
		if err := d.w.Workspace.MkdirsByPath(ctx, s.ParentPath); err != nil {
			return "", nil, fmt.Errorf("failed to create the folder of dashboard %q: %w", s.DisplayName, err)
		}
		got, err = d.w.Lakeview.Create(ctx, c)
	}
	if err != nil {
		return "", nil, err
	}
	if err := s.publish(ctx, d, got.DashboardId); err != nil {
		if terr := d.w.Lakeview.TrashByDashboardId(ctx, got.DashboardId); terr != nil {
			return "", nil, fmt.Errorf("%w; trashing the unpublished dashboard failed too: %w", err, terr)
		}
		return "", nil, err
	}
	return got.DashboardId, nil, nil
}

func (dashboardsType) update(ctx context.Context, d *deployer, id string, _, _ map[string]any, req any) (string, any, error) {
	s := req.(*dashboardState)
	draft := s.draft()
	draft.ParentPath = "" // it cannot change: a new one replaces the dashboard
	if _, err := d.w.Lakeview.Update(ctx, dashboards.UpdateDashboardRequest{DashboardId: id, Dashboard: draft, DatasetCatalog: s.DatasetCatalog, DatasetSchema: s.DatasetSchema}); err != nil {
		return "", nil, err
	}
	return "", nil, s.publish(ctx, d, id)
}

func (dashboardsType) remove(ctx context.Context, d *deployer, id string) error {
	return d.w.Lakeview.TrashByDashboardId(ctx, id)
}

func (dashboardsType) replaces(_ string, old, norm map[string]any) bool {
	return fieldsDiffer(old, norm, []string{"parent_path"})
}

// read checks existence only; a trashed dashboard is missing.
func (dashboardsType) read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error) {
	got, err := w.Lakeview.GetByDashboardId(ctx, id)
	if err != nil {
		return nil, err
	}
	if got.LifecycleState == dashboards.LifecycleStateTrashed {
		return nil, fmt.Errorf("dashboard %s is in the trash: %w", id, apierr.ErrNotFound)
	}
	return nil, nil
}

// find looks for the active dashboard called name under the bundle's root
// or resource path; several are ambiguous, and none is adopted.
func (dashboardsType) find(ctx context.Context, d *deployer, name string) (string, error) {
	all, err := d.w.Lakeview.ListAll(ctx, dashboards.ListDashboardsRequest{})
	if err != nil {
		return "", err
	}
	under := func(p, dir string) bool {
		return dir != "" && strings.HasPrefix(withWorkspacePrefix(p), withWorkspacePrefix(path.Clean(dir))+"/")
	}
	var ids []string
	for _, db := range all {
		if db.DisplayName == name && db.LifecycleState != dashboards.LifecycleStateTrashed &&
			(under(db.Path, d.b.Workspace.RootPath) || under(db.Path, d.b.Workspace.ResourcePath)) {
			ids = append(ids, db.DashboardId)
		}
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	if len(ids) > 1 {
		d.progress("warning: %d dashboards are called %q (%s); none is adopted, trash those an interrupted deploy left", len(ids), name, strings.Join(ids, ", "))
	}
	return "", nil
}

func (dashboardsType) objectType() string              { return "dashboards" }
func (dashboardsType) ownerLevel() iam.PermissionLevel { return iam.PermissionLevelCanManage }
func (dashboardsType) objectID(id, _ string, _ any) string {
	return "/dashboards/" + id
}
func (dashboardsType) lookupObjectID(_ context.Context, _ *deployer, id string) (string, error) {
	return "/dashboards/" + id, nil
}
