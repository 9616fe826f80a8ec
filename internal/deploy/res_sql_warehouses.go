package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/sql"
)

// sqlWarehousesType deploys SQL warehouses. A warehouse's id is its id.
// Every setting is updated in place with the edit call, which replaces
// them all (a running warehouse restarts with them); no setting forces a
// re-create, as with the Databricks CLI. The deploy waits neither for a
// new warehouse to start nor for an edited one to restart, and
// lifecycle.started is not applied, as for clusters. The CLI's defaults
// (auto_stop_mins 120, Photon, one cluster, cost-optimised spot
// instances) are deployed too. Permissions are set at
// /permissions/warehouses/<id>, the SDK's path for the ACL the Databricks
// CLI sets at /permissions/sql/warehouses/<id>.
type sqlWarehousesType struct{}

func (sqlWarehousesType) group() string { return "sql_warehouses" }
func (sqlWarehousesType) kind() string  { return "sql_warehouse" }
func (sqlWarehousesType) of(b *bundle.Bundle) []*bundle.Resource {
	return ofType(b, "sql_warehouses")
}
func (sqlWarehousesType) label(key, id string) string {
	return fmt.Sprintf("SQL warehouse %s (id %s)", key, id)
}
func (sqlWarehousesType) name(s map[string]any) string { return nameOf(s) }

func (sqlWarehousesType) desired(_ *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	req, norm, err := settingsOf[sql.CreateWarehouseRequest](withDefaults(r, ids), ids, "SQL warehouse")
	if err == nil && req.Name == "" {
		err = errNoName("SQL warehouse", r.Type, r.Key)
	}
	return req, norm, err
}

func (sqlWarehousesType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	wait, err := d.w.Warehouses.Create(ctx, *req.(*sql.CreateWarehouseRequest))
	if err != nil {
		return "", nil, err
	}
	return wait.Id, nil, nil
}

func (sqlWarehousesType) update(ctx context.Context, d *deployer, id string, _, _ map[string]any, req any) (string, any, error) {
	var e sql.EditWarehouseRequest
	if err := convert(req, &e); err != nil {
		return "", nil, fmt.Errorf("failed to encode the edit of SQL warehouse %s: %w", id, err)
	}
	e.Id = id
	_, err := d.w.Warehouses.Edit(ctx, e)
	return "", nil, err
}

func (sqlWarehousesType) remove(ctx context.Context, d *deployer, id string) error {
	return d.w.Warehouses.DeleteById(ctx, id)
}

// replaces is false: the edit call changes every setting.
func (sqlWarehousesType) replaces(string, map[string]any, map[string]any) bool { return false }

func (sqlWarehousesType) read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error) {
	got, err := w.Warehouses.GetById(ctx, id)
	if err != nil {
		return nil, err
	}
	var settings sql.CreateWarehouseRequest
	if err := convert(got, &settings); err != nil {
		return nil, err
	}
	return normalise(settings)
}

// find looks for the warehouse with the name that the deploying identity
// created; several such warehouses are ambiguous, and none is adopted.
func (sqlWarehousesType) find(ctx context.Context, d *deployer, name string) (string, error) {
	all, err := d.w.Warehouses.ListAll(ctx, sql.ListWarehousesRequest{})
	if err != nil {
		return "", err
	}
	var ids []string
	for _, wh := range all {
		if wh.Name == name && wh.CreatorName == d.opts.User {
			ids = append(ids, wh.Id)
		}
	}
	switch len(ids) {
	case 0:
		return "", nil
	case 1:
		return ids[0], nil
	}
	d.progress("warning: %d SQL warehouses are called %q (%s); none is adopted, delete those an interrupted deploy left", len(ids), name, strings.Join(ids, ", "))
	return "", nil
}

func (sqlWarehousesType) objectType() string              { return "warehouses" }
func (sqlWarehousesType) ownerLevel() iam.PermissionLevel { return iam.PermissionLevelIsOwner }
func (sqlWarehousesType) objectID(id, _ string, _ any) string {
	return "/warehouses/" + id
}
func (sqlWarehousesType) lookupObjectID(_ context.Context, _ *deployer, id string) (string, error) {
	return "/warehouses/" + id, nil
}
