package deploy

import (
	"context"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go"
	"github.com/databricks/databricks-sdk-go/service/catalog"
)

// volumesType deploys Unity Catalog volumes. A volume's id is its full
// name, catalog.schema.volume. Its comment is updated and its name
// changed in place (the files stay); a new catalog, schema, volume type or
// storage location replaces it.
type volumesType struct{}

func (volumesType) group() string { return "volumes" }
func (volumesType) kind() string  { return "volume" }
func (volumesType) of(b *bundle.Bundle) []*bundle.Resource {
	return ofType(b, "volumes")
}
func (volumesType) label(_, id string) string { return "volume " + id }
func (volumesType) name(s map[string]any) string {
	return fullName(s, "catalog_name", "schema_name", "name")
}
func (volumesType) idIsName()         {}
func (volumesType) caseless()         {}
func (volumesType) securable() string { return "volume" }

func (t volumesType) catalogNames(cfg map[string]any) []string { return []string{t.name(cfg)} }
func (t volumesType) catalogUses(cfg map[string]any) []string {
	return []string{fullName(cfg, "catalog_name", "schema_name")}
}

func (volumesType) desired(_ *bundle.Bundle, r *bundle.Resource, ids map[string]string) (any, map[string]any, error) {
	req, norm, err := settingsOf[catalog.CreateVolumeRequestContent](r, ids, "volume")
	if err == nil && (req.Name == "" || req.CatalogName == "" || req.SchemaName == "") {
		err = errNoName("volume", r.Type, r.Key)
	}
	if err == nil && req.VolumeType == "" {
		// The API requires it; MANAGED is what a volume without a storage
		// location is, and the CLI's default.
		req.VolumeType = catalog.VolumeTypeManaged
		norm["volume_type"] = string(req.VolumeType)
	}
	return req, norm, err
}

func (volumesType) create(ctx context.Context, d *deployer, req any) (string, any, error) {
	info, err := d.w.Volumes.Create(ctx, *req.(*catalog.CreateVolumeRequestContent))
	if err != nil {
		return "", nil, err
	}
	return info.FullName, info, nil
}

func (volumesType) update(ctx context.Context, d *deployer, id string, _, _ map[string]any, req any) (string, any, error) {
	c := req.(*catalog.CreateVolumeRequestContent)
	u := catalog.UpdateVolumeRequestContent{Name: id, Comment: c.Comment, ForceSendFields: []string{"Comment"}}
	if want := c.CatalogName + "." + c.SchemaName + "." + c.Name; !sameName(want, id) {
		u.NewName = c.Name
	}
	info, err := d.w.Volumes.Update(ctx, u)
	if err != nil {
		return "", nil, err
	}
	return info.FullName, info, nil
}

func (volumesType) remove(ctx context.Context, d *deployer, id string) error {
	return d.w.Volumes.DeleteByName(ctx, id)
}

func (volumesType) replaces(id string, old, norm map[string]any) bool {
	return !sameName(schemaOf(id), fullName(norm, "catalog_name", "schema_name")) ||
		fieldsDiffer(old, norm, []string{"volume_type", "storage_location"})
}

// alignRemote: Unity Catalog answers names in lower case.
func (volumesType) alignRemote(deployed, remote map[string]any) {
	alignNames(deployed, remote, "catalog_name", "schema_name", "name")
}

func (volumesType) read(ctx context.Context, w *databricks.WorkspaceClient, id string) (map[string]any, error) {
	info, err := w.Volumes.ReadByName(ctx, id)
	if err != nil {
		return nil, err
	}
	return normalise(info)
}

func (volumesType) find(ctx context.Context, d *deployer, name string) (string, error) {
	return foundBy(d.w.Volumes.ReadByName(ctx, name))
}
