package deploy

import (
	"context"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/catalog"
)

// registeredModelsType deploys Unity Catalog registered models. A model's
// id is its full name, catalog.schema.model. Its comment is updated and
// its name changed in place (its versions stay); a new catalog, schema or
// storage location replaces it. Its grants are those of the securable
// type FUNCTION, as Unity Catalog files models.
type registeredModelsType struct{}

func (registeredModelsType) group() string { return "registered_models" }
func (registeredModelsType) kind() string  { return "registered_model" }
func (registeredModelsType) of(b *bundle.Bundle) []*bundle.Resource {
	return ofType(b, "registered_models")
}
func (registeredModelsType) label(_, id string) string { return "registered model " + id }
func (registeredModelsType) name(s map[string]any) string {
	return fullName(s, "catalog_name", "schema_name", "name")
}
func (registeredModelsType) idIsName()         {}
func (registeredModelsType) caseless()         {}
func (registeredModelsType) securable() string { return "function" }

func (t registeredModelsType) catalogNames(cfg map[string]any) []string { return []string{t.name(cfg)} }
func (registeredModelsType) catalogUses(cfg map[string]any) []string {
	return []string{fullName(cfg, "catalog_name", "schema_name")}
}

func (registeredModelsType) desired(_ *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	req, norm, err := settingsOf[catalog.CreateRegisteredModelRequest](r, ids, "registered model")
	if err == nil && (req.Name == "" || req.CatalogName == "" || req.SchemaName == "") {
		err = errNoName("registered model", r.Type, r.Key)
	}
	return req, norm, err
}

func (registeredModelsType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	info, err := d.w.RegisteredModels.Create(ctx, *req.(*catalog.CreateRegisteredModelRequest))
	if err != nil {
		return "", nil, err
	}
	return info.FullName, info, nil
}

func (registeredModelsType) update(ctx context.Context, d *deployer, id string, _, _ map[string]any, req any) (string, any, error) {
	c := req.(*catalog.CreateRegisteredModelRequest)
	u := catalog.UpdateRegisteredModelRequest{FullName: id, Comment: c.Comment, ForceSendFields: []string{"Comment"}}
	if want := c.CatalogName + "." + c.SchemaName + "." + c.Name; !sameName(want, id) {
		u.NewName = c.Name
	}
	info, err := d.w.RegisteredModels.Update(ctx, u)
	if err != nil {
		return "", nil, err
	}
	return info.FullName, info, nil
}

func (registeredModelsType) remove(ctx context.Context, d *deployer, id string) error {
	return d.w.RegisteredModels.DeleteByFullName(ctx, id)
}

func (registeredModelsType) replaces(id string, old, norm map[string]any) bool {
	return !sameName(schemaOf(id), fullName(norm, "catalog_name", "schema_name")) ||
		fieldsDiffer(old, norm, []string{"storage_location"})
}

// alignRemote: Unity Catalog answers names in lower case.
func (registeredModelsType) alignRemote(deployed, remote map[string]any) {
	alignNames(deployed, remote, "catalog_name", "schema_name", "name")
	// A read without include_aliases answers no aliases; they are set on
	// model versions.
	if v, ok := deployed["aliases"]; ok {
		remote["aliases"] = v
	}
}

func (registeredModelsType) read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error) {
	info, err := w.RegisteredModels.GetByFullName(ctx, id)
	if err != nil {
		return nil, err
	}
	return normalise(info)
}

func (registeredModelsType) find(ctx context.Context, d *deployer, name string) (string, error) {
	return foundBy(d.w.RegisteredModels.GetByFullName(ctx, name))
}
