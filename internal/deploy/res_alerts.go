package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/apierr"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/sql"
)

// alertsType deploys SQL alerts (the alerts v2 API). An alert's id is its
// id. Every setting is updated in place (an update with the mask "*"), as
// with the Databricks CLI; nothing forces a re-create. The definition is
// the configuration or the .dbalert.json file file_path names (its
// query_lines and custom_description_lines joined, display_name and
// warehouse_id taken from the configuration, as the CLI reads it), and
// parent_path defaults to workspace.resource_path, made when missing. A
// removed alert is deleted for good (purged), as the CLI deletes it.
type alertsType struct{}

// alertLines are the fields a .dbalert.json file has besides the alert's:
// its query and description as lists of lines.
type alertLines struct {
	QueryLines             []string `json:"query_lines,omitempty"`
	CustomDescriptionLines []string `json:"custom_description_lines,omitempty"`
}

func (alertsType) group() string { return "alerts" }
func (alertsType) kind() string  { return "alert" }
func (alertsType) of(b *bundle.Bundle) []*bundle.Resource {
	return ofType(b, "alerts")
}
func (alertsType) label(key, id string) string {
	return fmt.Sprintf("alert %s (id %s)", key, id)
}
func (alertsType) name(s map[string]any) string {
	n, _ := s["display_name"].(string)
	return n
}

// joinLines joins a file's lines, each ending in a newline.
func joinLines(lines []string) string {
	var sb strings.Builder
	for _, l := range lines {
		sb.WriteString(l)
		sb.WriteString("\n")
	}
	return sb.String()
}

func (alertsType) desired(b *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	a, _, err := settingsOf[sql.AlertV2](r, ids, "alert")
	if err != nil {
		return nil, nil, err
	}
	if fp, _ := r.Config["file_path"].(string); fp != "" {
		content, err := os.ReadFile(localPath(b, r, fp))
		if err != nil {
			return nil, nil, fmt.Errorf("failed to read the file_path of alert %q: %w", r.Key, err)
		}
		// The SDK type decodes itself and drops the lines: read both.
		var def sql.AlertV2
		var f alertLines
		if err := errors.Join(json.Unmarshal(content, &def), json.Unmarshal(content, &f)); err != nil {
			return nil, nil, fmt.Errorf("failed to parse the .dbalert.json file %s of alert %q: %w", fp, r.Key, err)
		}
		def.DisplayName, def.WarehouseId = a.DisplayName, a.WarehouseId
		query, description := def.QueryText, def.CustomDescription
		def.QueryText, def.CustomDescription = joinLines(f.QueryLines), joinLines(f.CustomDescriptionLines)
		if len(f.QueryLines) == 0 {
			def.QueryText = query
		}
		if len(f.CustomDescriptionLines) == 0 {
			def.CustomDescription = description
		}
		a = &def
	}
	if a.DisplayName == "" {
		return nil, nil, fmt.Errorf("alert %q has no name; set resources.alerts.%s.display_name", r.Key, r.Key)
	}
	// What the workspace sets is never sent.
	a.Id, a.CreateTime, a.UpdateTime, a.OwnerUserName, a.LifecycleState, a.EffectiveRunAs = "", "", "", "", "", nil
	a.Evaluation.State, a.Evaluation.LastEvaluatedAt = "", ""
	if a.ParentPath == "" {
		a.ParentPath = defaultParent(b)
	}
	a.ParentPath = withWorkspacePrefix(path.Clean(a.ParentPath))
	norm, err := normalise(a)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode alert %q: %w", r.Key, err)
	}
	return a, norm, nil
}

func (alertsType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	a := req.(*sql.AlertV2)
	got, err := d.w.AlertsV2.CreateAlert(ctx, sql.CreateAlertV2Request{Alert: *a})
	if apierr.IsMissing(err) {
		if err := d.w.Workspace.MkdirsByPath(ctx, a.ParentPath); err != nil {
			return "", nil, fmt.Errorf("failed to create the folder of alert %q: %w", a.DisplayName, err)
		}
		got, err = d.w.AlertsV2.CreateAlert(ctx, sql.CreateAlertV2Request{Alert: *a})
	}
	if err != nil {
		return "", nil, err
	}
	return got.Id, nil, nil
}

func (alertsType) update(ctx context.Context, d *deployer, id string, _, _ map[string]any, req any) (string, any, error) {
	_, err := d.w.AlertsV2.UpdateAlert(ctx, sql.UpdateAlertV2Request{Id: id, Alert: *req.(*sql.AlertV2), UpdateMask: "*"})
	return "", nil, err
}

func (alertsType) remove(ctx context.Context, d *deployer, id string) error {
	return d.w.AlertsV2.TrashAlert(ctx, sql.TrashAlertV2Request{Id: id, Purge: true, ForceSendFields: []string{"Purge"}})
}

// replaces is false: an update sets every field.
func (alertsType) replaces(string, map[string]any, map[string]any) bool { return false }

// read returns the alert's settings; a trashed alert is missing.
func (alertsType) read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error) {
	got, err := w.AlertsV2.GetAlertById(ctx, id)
	if err != nil {
		return nil, err
	}
	if got.LifecycleState == sql.AlertLifecycleStateDeleted {
		return nil, fmt.Errorf("alert %s is in the trash: %w", id, apierr.ErrNotFound)
	}
	got.ParentPath = withWorkspacePrefix(got.ParentPath)
	return normalise(got)
}

// find looks for the alert called name that the deploying identity owns
// under the bundle's root or resource path; several are ambiguous.
func (alertsType) find(ctx context.Context, d *deployer, name string) (string, error) {
	all, err := d.w.AlertsV2.ListAlertsAll(ctx, sql.ListAlertsV2Request{})
	if err != nil {
		return "", err
	}
	under := func(p, dir string) bool {
		return dir != "" && strings.HasPrefix(withWorkspacePrefix(p)+"/", withWorkspacePrefix(path.Clean(dir))+"/")
	}
	var ids []string
	for _, a := range all {
		if a.DisplayName == name && a.OwnerUserName == d.opts.User && (under(a.ParentPath, d.b.Workspace.RootPath) || under(a.ParentPath, d.b.Workspace.ResourcePath)) {
			ids = append(ids, a.Id)
		}
	}
	if len(ids) == 1 {
		return ids[0], nil
	}
	if len(ids) > 1 {
		d.progress("warning: %d alerts are called %q (%s); none is adopted, delete those an interrupted deploy left", len(ids), name, strings.Join(ids, ", "))
	}
	return "", nil
}

func (alertsType) objectType() string              { return "alertsv2" }
func (alertsType) ownerLevel() iam.PermissionLevel { return iam.PermissionLevelCanManage }
func (alertsType) objectID(id, _ string, _ any) string {
	return "/alertsv2/" + id
}
func (alertsType) lookupObjectID(_ context.Context, _ *deployer, id string) (string, error) {
	return "/alertsv2/" + id, nil
}
