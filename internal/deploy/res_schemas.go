package deploy

import (
	"context"
	"strings"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/catalog"
)

// schemasType deploys Unity Catalog schemas. A schema's id is its full
// name, catalog.schema, in lower case as Unity Catalog answers it (names
// are compared regardless of case). Its comment and properties are updated
// and its name changed in place (its tables stay); a new catalog or
// storage root replaces it. A destroy or a replace deletes it with what it
// holds (force), as the Databricks CLI does; a replace therefore replaces
// the bundle's volumes, registered models and monitors in it too (see
// computePlan).
type schemasType struct{}

func (schemasType) group() string { return "schemas" }
func (schemasType) kind() string  { return "schema" }
func (schemasType) of(b *bundle.Bundle) []*bundle.Resource {
	return ofType(b, "schemas")
}
func (schemasType) label(_, id string) string { return "schema " + id }
func (schemasType) name(s map[string]any) string {
	return fullName(s, "catalog_name", "name")
}
func (schemasType) idIsName()         {}
func (schemasType) caseless()         {}
func (schemasType) securable() string { return "schema" }

func (t schemasType) catalogNames(cfg map[string]any) []string { return []string{t.name(cfg)} }
func (schemasType) catalogUses(map[string]any) []string        { return nil }

func (schemasType) desired(_ *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	req, norm, err := settingsOf[catalog.CreateSchema](r, ids, "schema")
	if err == nil && (req.Name == "" || req.CatalogName == "") {
		err = errNoName("schema", r.Type, r.Key)
	}
	return req, norm, err
}

func (schemasType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	info, err := d.w.Schemas.Create(ctx, *req.(*catalog.CreateSchema))
	if err != nil {
		return "", nil, err
	}
	return info.FullName, info, nil
}

func (schemasType) update(ctx context.Context, d *deployer, id string, _, _ map[string]any, req any) (string, any, error) {
	c := req.(*catalog.CreateSchema)
	u := catalog.UpdateSchema{
		FullName:                id,
		Comment:                 c.Comment,
		Properties:              c.Properties,
		CustomMaxRetentionHours: c.CustomMaxRetentionHours,
		ForceSendFields:         []string{"Comment"},
	}
	if !sameName(c.CatalogName+"."+c.Name, id) {
		u.NewName = c.Name
	}
	info, err := d.w.Schemas.Update(ctx, u)
	if err != nil {
		return "", nil, err
	}
	return info.FullName, info, nil
}

func (schemasType) remove(ctx context.Context, d *deployer, id string) error {
	return d.w.Schemas.Delete(ctx, catalog.DeleteSchemaRequest{FullName: id, Force: true})
}

func (schemasType) replaces(id string, old, norm map[string]any) bool {
	catalogName, _, _ := strings.Cut(id, ".")
	want, _ := norm["catalog_name"].(string)
	return !sameName(catalogName, want) || fieldsDiffer(old, norm, []string{"storage_root"})
}

// alignRemote: Unity Catalog answers names in lower case.
func (schemasType) alignRemote(deployed, remote map[string]any) {
	alignNames(deployed, remote, "catalog_name", "name")
}

func (schemasType) read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error) {
	info, err := w.Schemas.GetByFullName(ctx, id)
	if err != nil {
		return nil, err
	}
	return normalise(info)
}

func (t schemasType) find(ctx context.Context, d *deployer, name string) (string, error) {
	return foundBy(d.w.Schemas.GetByFullName(ctx, name))
}

// fullName joins the name fields of a Unity Catalog object's settings
// into its full name; "" when one is missing.
func fullName(s map[string]any, fields ...string) string {
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		v, _ := s[f].(string)
		if v == "" {
			return ""
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, ".")
}

// foundBy turns the answer of a read by name into find's: the full name
// of what exists, "" when nothing does.
func foundBy[T any](info *T, err error) (string, error) {
	switch {
	case isNotFound(err):
		return "", nil
	case err != nil:
		return "", err
	}
	m, err := normalise(info)
	if err != nil {
		return "", err
	}
	name, _ := m["full_name"].(string)
	return name, nil
}

// sameName reports whether two Unity Catalog names are the same: Unity
// Catalog stores names in lower case and compares them regardless of case.
func sameName(a, b string) bool { return strings.EqualFold(a, b) }

// alignNames gives the name fields read back from Unity Catalog, in lower
// case, the bundle's spelling when they name the same object, so that a
// refresh reports no change.
func alignNames(deployed, remote map[string]any, fields ...string) {
	for _, f := range fields {
		d, _ := deployed[f].(string)
		r, _ := remote[f].(string)
		if d != r && sameName(d, r) {
			remote[f] = d
		}
	}
}

// schemaOf is the schema holding a catalog.schema.object name.
func schemaOf(full string) string {
	if i := strings.LastIndex(full, "."); i > 0 && strings.Count(full, ".") == 2 {
		return full[:i]
	}
	return ""
}
