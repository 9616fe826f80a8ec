package emulator

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/databricks/databricks-sdk-go/service/catalog"
)

// unityCatalog is the Unity Catalog metastore of one workspace. Names are
// case-insensitive in Unity Catalog and stored in lower case; maps are keyed
// by full name ("catalog", "catalog.schema", "catalog.schema.name").
type unityCatalog struct {
	metastoreID string
	catalogs    map[string]*catalog.CatalogInfo
	schemas     map[string]*catalog.SchemaInfo
	tables      map[string]*catalog.TableInfo
	volumes     map[string]*catalog.VolumeInfo
	models      map[string]*catalog.RegisteredModelInfo
	// grants maps "<SECURABLE_TYPE>/<full name>" to principal → privileges.
	grants map[string]map[string][]catalog.Privilege
}

func newUnityCatalog(ws *workspace) *unityCatalog {
	uc := &unityCatalog{
		metastoreID: uuidOf(stableID("metastore " + ws.who.workspace)),
		catalogs:    map[string]*catalog.CatalogInfo{},
		schemas:     map[string]*catalog.SchemaInfo{},
		tables:      map[string]*catalog.TableInfo{},
		volumes:     map[string]*catalog.VolumeInfo{},
		models:      map[string]*catalog.RegisteredModelInfo{},
		grants:      map[string]map[string][]catalog.Privilege{},
	}
	return uc
}

// uuidOf formats a number as a UUID, the shape of Unity Catalog ids.
func uuidOf(n int64) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(n>>32), uint64(n)&0xffffffffffff)
}

// Seed lists Unity Catalog objects that exist in a workspace without being
// created through the API, as objects made by other teams or by SQL do.
// Names are full names; missing parents are created implicitly.
type Seed struct {
	Catalogs []string `json:"catalogs"`
	Schemas  []string `json:"schemas"`
	Tables   []string `json:"tables"`
}

// Seed makes the objects of seed exist in the workspace of key ("" for every
// workspace, present and future, until the next Reset). A workspace no
// request has reached yet is seeded when the first one does.
func (s *Server) Seed(key string, seed Seed) error {
	for _, names := range []struct {
		list  []string
		parts int
	}{{seed.Catalogs, 1}, {seed.Schemas, 2}, {seed.Tables, 3}} {
		for _, n := range names.list {
			if _, err := splitName(n, names.parts); err != nil {
				return fmt.Errorf("failed to seed: %w", err)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	if key != "" {
		if ws := s.peekWorkspace(key); ws != nil {
			return ws.seed(seed, now)
		}
		// The workspace does not exist yet; it is seeded when first reached,
		// once it is known who its token belongs to.
		s.keyedSeeds[key] = append(s.keyedSeeds[key], seed)
		return nil
	}
	s.seeds = append(s.seeds, seed)
	for _, ws := range s.spaces {
		if err := ws.seed(seed, now); err != nil {
			return err
		}
	}
	return nil
}

// seed creates the seeded objects and their parents; existing ones are kept.
func (ws *workspace) seed(seed Seed, now time.Time) error {
	for _, n := range seed.Catalogs {
		ws.seedCatalog(strings.ToLower(n), now)
	}
	for _, n := range seed.Schemas {
		parts, err := splitName(n, 2)
		if err != nil {
			return err
		}
		ws.seedCatalog(parts[0], now)
		ws.seedSchema(parts[0], parts[1], now)
	}
	for _, n := range seed.Tables {
		parts, err := splitName(n, 3)
		if err != nil {
			return err
		}
		ws.seedCatalog(parts[0], now)
		ws.seedSchema(parts[0], parts[1], now)
		ws.makeTable(parts, []catalog.ColumnInfo{{Name: "id", TypeName: catalog.ColumnTypeNameLong, TypeText: "bigint", Position: 0, Nullable: true}}, now)
	}
	return nil
}

// makeTable creates the managed table catalog.schema.table (parts) with
// columns, unless it exists; its schema must.
func (ws *workspace) makeTable(parts []string, cols []catalog.ColumnInfo, now time.Time) {
	full := strings.Join(parts, ".")
	if _, ok := ws.uc.tables[full]; ok {
		return
	}
	ws.uc.tables[full] = &catalog.TableInfo{
		CatalogName: parts[0], SchemaName: parts[1], Name: parts[2], FullName: full,
		TableType: catalog.TableTypeManaged, DataSourceFormat: catalog.DataSourceFormatDelta,
		TableId: uuidOf(ws.newID()), MetastoreId: ws.uc.metastoreID, Owner: ws.who.userName,
		CreatedAt: millis(now), CreatedBy: ws.who.userName, UpdatedAt: millis(now), UpdatedBy: ws.who.userName,
		StorageLocation: ws.storageRoot("tables", full),
		Columns:         cols,
	}
}

// payloadColumns are the columns of a serving endpoint's inference table
// (https://docs.databricks.com/aws/en/machine-learning/model-serving/inference-tables).
var payloadColumns = []catalog.ColumnInfo{
	{Name: "client_request_id", TypeName: catalog.ColumnTypeNameString, TypeText: "string", Position: 0, Nullable: true},
	{Name: "databricks_request_id", TypeName: catalog.ColumnTypeNameString, TypeText: "string", Position: 1, Nullable: true},
	{Name: "date", TypeName: catalog.ColumnTypeNameDate, TypeText: "date", Position: 2, Nullable: true},
	{Name: "timestamp_ms", TypeName: catalog.ColumnTypeNameLong, TypeText: "bigint", Position: 3, Nullable: true},
	{Name: "status_code", TypeName: catalog.ColumnTypeNameInt, TypeText: "int", Position: 4, Nullable: true},
	{Name: "execution_time_ms", TypeName: catalog.ColumnTypeNameLong, TypeText: "bigint", Position: 5, Nullable: true},
	{Name: "request", TypeName: catalog.ColumnTypeNameString, TypeText: "string", Position: 6, Nullable: true},
	{Name: "response", TypeName: catalog.ColumnTypeNameString, TypeText: "string", Position: 7, Nullable: true},
	{Name: "request_time", TypeName: catalog.ColumnTypeNameTimestamp, TypeText: "timestamp", Position: 8, Nullable: true},
}

func (ws *workspace) seedCatalog(name string, now time.Time) {
	if ws.uc.catalogs[name] != nil {
		return
	}
	ws.uc.catalogs[name] = &catalog.CatalogInfo{
		Name: name, FullName: name, CatalogType: catalog.CatalogTypeManagedCatalog, MetastoreId: ws.uc.metastoreID,
		Owner: ws.who.userName, CreatedAt: millis(now), CreatedBy: ws.who.userName, UpdatedAt: millis(now), UpdatedBy: ws.who.userName,
		IsolationMode: catalog.CatalogIsolationModeOpen, SecurableType: catalog.SecurableTypeCatalog,
		StorageLocation: ws.storageRoot("catalogs", name),
	}
}

func (ws *workspace) seedSchema(cat, name string, now time.Time) {
	full := cat + "." + name
	if ws.uc.schemas[full] != nil {
		return
	}
	ws.uc.schemas[full] = ws.newSchemaInfo(cat, name, now)
}

func (ws *workspace) newSchemaInfo(cat, name string, now time.Time) *catalog.SchemaInfo {
	full := cat + "." + name
	return &catalog.SchemaInfo{
		CatalogName: cat, Name: name, FullName: full, CatalogType: catalog.CatalogTypeManagedCatalog,
		SchemaId: uuidOf(ws.newID()), MetastoreId: ws.uc.metastoreID, Owner: ws.who.userName,
		CreatedAt: millis(now), CreatedBy: ws.who.userName, UpdatedAt: millis(now), UpdatedBy: ws.who.userName,
		StorageLocation: ws.storageRoot("schemas", full),
	}
}

// storageRoot is where the managed storage of an object would live.
func (ws *workspace) storageRoot(kind, full string) string {
	return "s3://emulator-metastore/" + ws.uc.metastoreID + "/" + kind + "/" + full
}

// splitName splits a full name into its n dot-separated, non-empty parts,
// in lower case.
func splitName(full string, n int) ([]string, error) {
	parts := strings.Split(strings.ToLower(full), ".")
	if len(parts) != n || slices.Contains(parts, "") {
		return nil, errInvalidParameter("%q is not a valid full name: expected %d dot-separated parts", full, n)
	}
	return parts, nil
}

// The codes Unity Catalog answers for missing securables (404).
func errCatalogMissing(name string) error {
	return newError(http.StatusNotFound, "CATALOG_DOES_NOT_EXIST", "Catalog '%s' does not exist.", name)
}

func errSchemaMissing(full string) error {
	return newError(http.StatusNotFound, "SCHEMA_DOES_NOT_EXIST", "Schema '%s' does not exist.", full)
}

func errTableMissing(full string) error {
	return newError(http.StatusNotFound, "TABLE_DOES_NOT_EXIST", "Table '%s' does not exist.", full)
}

// errUCAlreadyExists is 409 RESOURCE_ALREADY_EXISTS, as Unity Catalog
// answers a create of a name in use.
func errUCAlreadyExists(kind, full string) error {
	return newError(http.StatusConflict, "RESOURCE_ALREADY_EXISTS", "%s '%s' already exists", kind, full)
}

func (uc *unityCatalog) catalog(name string) (*catalog.CatalogInfo, error) {
	c, ok := uc.catalogs[strings.ToLower(name)]
	if !ok {
		return nil, errCatalogMissing(name)
	}
	return c, nil
}

// schema resolves a schema by full name, failing on its catalog first.
func (uc *unityCatalog) schema(full string) (*catalog.SchemaInfo, error) {
	parts, err := splitName(full, 2)
	if err != nil {
		return nil, err
	}
	if _, err := uc.catalog(parts[0]); err != nil {
		return nil, err
	}
	s, ok := uc.schemas[strings.Join(parts, ".")]
	if !ok {
		return nil, errSchemaMissing(full)
	}
	return s, nil
}

// parentSchema resolves the schema of a three-part name.
func (uc *unityCatalog) parentSchema(cat, schema string) (*catalog.SchemaInfo, error) {
	if cat == "" || schema == "" {
		return nil, errInvalidParameter("catalog_name and schema_name are required")
	}
	return uc.schema(cat + "." + schema)
}

func (uc *unityCatalog) volume(full string) (*catalog.VolumeInfo, error) {
	v, ok := uc.volumes[strings.ToLower(full)]
	if !ok {
		return nil, errDoesNotExist("Volume '%s' does not exist.", full)
	}
	return v, nil
}

func (uc *unityCatalog) model(full string) (*catalog.RegisteredModelInfo, error) {
	m, ok := uc.models[strings.ToLower(full)]
	if !ok {
		return nil, errDoesNotExist("Registered model '%s' does not exist.", full)
	}
	return m, nil
}

func (uc *unityCatalog) table(full string) (*catalog.TableInfo, error) {
	t, ok := uc.tables[strings.ToLower(full)]
	if !ok {
		return nil, errTableMissing(full)
	}
	return t, nil
}

func handleCatalogGet(s *Server, c *call) (any, error) {
	return c.ws.uc.catalog(c.r.PathValue("name"))
}

func handleCatalogList(s *Server, c *call) (any, error) {
	resp := catalog.ListCatalogsResponse{}
	for _, name := range slices.Sorted(maps.Keys(c.ws.uc.catalogs)) {
		resp.Catalogs = append(resp.Catalogs, *c.ws.uc.catalogs[name])
	}
	return resp, nil
}

func handleSchemaCreate(s *Server, c *call) (any, error) {
	var req catalog.CreateSchema
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Name == "" || req.CatalogName == "" {
		return nil, errInvalidParameter("name and catalog_name are required")
	}
	if strings.Contains(req.Name, ".") {
		return nil, errInvalidParameter("schema name %q must not contain '.'", req.Name)
	}
	cat, err := c.ws.uc.catalog(req.CatalogName)
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(req.Name)
	full := cat.Name + "." + name
	if _, ok := c.ws.uc.schemas[full]; ok {
		return nil, errUCAlreadyExists("Schema", full)
	}
	info := c.ws.newSchemaInfo(cat.Name, name, c.now)
	info.Comment, info.Properties, info.CustomMaxRetentionHours = req.Comment, req.Properties, req.CustomMaxRetentionHours
	if req.StorageRoot != "" {
		info.StorageRoot, info.StorageLocation = req.StorageRoot, req.StorageRoot
	}
	c.ws.uc.schemas[full] = info
	return info, nil
}

func handleSchemaGet(s *Server, c *call) (any, error) {
	return c.ws.uc.schema(c.r.PathValue("name"))
}

func handleSchemaList(s *Server, c *call) (any, error) {
	catName := c.query("catalog_name")
	if catName == "" {
		return nil, errInvalidParameter("catalog_name is required")
	}
	cat, err := c.ws.uc.catalog(catName)
	if err != nil {
		return nil, err
	}
	resp := catalog.ListSchemasResponse{}
	for _, full := range slices.Sorted(maps.Keys(c.ws.uc.schemas)) {
		if sc := c.ws.uc.schemas[full]; sc.CatalogName == cat.Name {
			resp.Schemas = append(resp.Schemas, *sc)
		}
	}
	return resp, nil
}

func handleSchemaUpdate(s *Server, c *call) (any, error) {
	var req catalog.UpdateSchema
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	sc, err := c.ws.uc.schema(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	if req.NewName != "" && strings.ToLower(req.NewName) != sc.Name {
		newName := strings.ToLower(req.NewName)
		if strings.Contains(newName, ".") {
			return nil, errInvalidParameter("schema name %q must not contain '.'", req.NewName)
		}
		newFull := sc.CatalogName + "." + newName
		if _, ok := c.ws.uc.schemas[newFull]; ok {
			return nil, errUCAlreadyExists("Schema", newFull)
		}
		c.ws.renameSchema(sc, newName)
	}
	if req.Comment != "" || slices.Contains(req.ForceSendFields, "Comment") {
		sc.Comment = req.Comment
	}
	if req.Owner != "" {
		sc.Owner = req.Owner
	}
	if req.Properties != nil {
		sc.Properties = req.Properties
	}
	if req.CustomMaxRetentionHours != 0 {
		sc.CustomMaxRetentionHours = req.CustomMaxRetentionHours
	}
	if req.EnablePredictiveOptimization != "" {
		sc.EnablePredictiveOptimization = req.EnablePredictiveOptimization
	}
	sc.UpdatedAt, sc.UpdatedBy = millis(c.now), c.who.userName
	return sc, nil
}

// renameSchema moves a schema and everything in it to a new name.
func (ws *workspace) renameSchema(sc *catalog.SchemaInfo, newName string) {
	oldFull := sc.FullName
	newFull := sc.CatalogName + "." + newName
	delete(ws.uc.schemas, oldFull)
	sc.Name, sc.FullName = newName, newFull
	ws.uc.schemas[newFull] = sc
	moveChildren(ws.uc.tables, oldFull, newFull, func(t *catalog.TableInfo, full string) { t.SchemaName, t.FullName = newName, full })
	moveChildren(ws.uc.volumes, oldFull, newFull, func(v *catalog.VolumeInfo, full string) { v.SchemaName, v.FullName = newName, full })
	moveChildren(ws.uc.models, oldFull, newFull, func(m *catalog.RegisteredModelInfo, full string) { m.SchemaName, m.FullName = newName, full })
	moveChildren(ws.monitors, oldFull, newFull, func(m *monitor, full string) { m.info.TableName = full })
	for key, g := range ws.uc.grants {
		typ, name, _ := strings.Cut(key, "/")
		if name == oldFull || strings.HasPrefix(name, oldFull+".") {
			delete(ws.uc.grants, key)
			ws.uc.grants[typ+"/"+newFull+strings.TrimPrefix(name, oldFull)] = g
		}
	}
}

func moveChildren[V any](m map[string]V, oldSchema, newSchema string, set func(V, string)) {
	for full, v := range m {
		if rest, ok := strings.CutPrefix(full, oldSchema+"."); ok {
			delete(m, full)
			set(v, newSchema+"."+rest)
			m[newSchema+"."+rest] = v
		}
	}
}

// schemaContents counts what a schema holds, by kind.
func (uc *unityCatalog) schemaContents(full string) (tables, models, volumes []string) {
	in := func(name string) bool { return strings.HasPrefix(name, full+".") }
	for _, n := range slices.Sorted(maps.Keys(uc.tables)) {
		if in(n) {
			tables = append(tables, n)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(uc.models)) {
		if in(n) {
			models = append(models, n)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(uc.volumes)) {
		if in(n) {
			volumes = append(volumes, n)
		}
	}
	return tables, models, volumes
}

func handleSchemaDelete(s *Server, c *call) (any, error) {
	sc, err := c.ws.uc.schema(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	tables, models, volumes := c.ws.uc.schemaContents(sc.FullName)
	if len(tables)+len(models)+len(volumes) > 0 && c.query("force") != "true" {
		// Registered models are functions to Unity Catalog.
		return nil, newError(http.StatusBadRequest, "SCHEMA_NOT_EMPTY",
			"Schema '%s' is not empty. The schema has %d tables(s), %d functions(s), %d volumes(s)",
			sc.FullName, len(tables), len(models), len(volumes))
	}
	for _, n := range tables {
		delete(c.ws.uc.tables, n)
		delete(c.ws.monitors, n)
		delete(c.ws.uc.grants, "TABLE/"+n)
	}
	for _, n := range models {
		delete(c.ws.uc.models, n)
		delete(c.ws.uc.grants, "FUNCTION/"+n)
	}
	for _, n := range volumes {
		delete(c.ws.uc.volumes, n)
		delete(c.ws.uc.grants, "VOLUME/"+n)
	}
	delete(c.ws.uc.schemas, sc.FullName)
	delete(c.ws.uc.grants, "SCHEMA/"+sc.FullName)
	return nil, nil
}

func handleVolumeCreate(s *Server, c *call) (any, error) {
	var req catalog.CreateVolumeRequestContent
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Name == "" || strings.Contains(req.Name, ".") {
		return nil, errInvalidParameter("volume name %q is not valid", req.Name)
	}
	sc, err := c.ws.uc.parentSchema(req.CatalogName, req.SchemaName)
	if err != nil {
		return nil, err
	}
	switch req.VolumeType {
	case catalog.VolumeTypeManaged:
		if req.StorageLocation != "" {
			return nil, errInvalidParameter("a MANAGED volume cannot have a storage_location")
		}
	case catalog.VolumeTypeExternal:
		if req.StorageLocation == "" {
			return nil, errInvalidParameter("an EXTERNAL volume needs a storage_location")
		}
	default:
		return nil, errInvalidParameter("volume_type %q is not valid, valid are %q", req.VolumeType, []catalog.VolumeType{catalog.VolumeTypeExternal, catalog.VolumeTypeManaged})
	}
	name := strings.ToLower(req.Name)
	full := sc.FullName + "." + name
	if _, ok := c.ws.uc.volumes[full]; ok {
		return nil, errUCAlreadyExists("Volume", full)
	}
	location := req.StorageLocation
	if location == "" {
		location = c.ws.storageRoot("volumes", full)
	}
	v := &catalog.VolumeInfo{
		CatalogName: sc.CatalogName, SchemaName: sc.Name, Name: name, FullName: full, Comment: req.Comment,
		VolumeType: req.VolumeType, StorageLocation: location, VolumeId: uuidOf(c.ws.newID()), MetastoreId: c.ws.uc.metastoreID,
		Owner: c.who.userName, CreatedAt: millis(c.now), CreatedBy: c.who.userName, UpdatedAt: millis(c.now), UpdatedBy: c.who.userName,
	}
	c.ws.uc.volumes[full] = v
	return v, nil
}

func handleVolumeGet(s *Server, c *call) (any, error) {
	return c.ws.uc.volume(c.r.PathValue("name"))
}

func handleVolumeList(s *Server, c *call) (any, error) {
	sc, err := c.ws.uc.parentSchema(c.query("catalog_name"), c.query("schema_name"))
	if err != nil {
		return nil, err
	}
	resp := catalog.ListVolumesResponseContent{}
	for _, full := range slices.Sorted(maps.Keys(c.ws.uc.volumes)) {
		if strings.HasPrefix(full, sc.FullName+".") {
			resp.Volumes = append(resp.Volumes, *c.ws.uc.volumes[full])
		}
	}
	return resp, nil
}

func handleVolumeUpdate(s *Server, c *call) (any, error) {
	var req catalog.UpdateVolumeRequestContent
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	v, err := c.ws.uc.volume(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	if req.NewName != "" && strings.ToLower(req.NewName) != v.Name {
		newName := strings.ToLower(req.NewName)
		newFull := v.CatalogName + "." + v.SchemaName + "." + newName
		if _, ok := c.ws.uc.volumes[newFull]; ok {
			return nil, errUCAlreadyExists("Volume", newFull)
		}
		delete(c.ws.uc.volumes, v.FullName)
		c.ws.uc.moveGrants("VOLUME", v.FullName, newFull)
		v.Name, v.FullName = newName, newFull
		c.ws.uc.volumes[newFull] = v
	}
	if req.Comment != "" || slices.Contains(req.ForceSendFields, "Comment") {
		v.Comment = req.Comment
	}
	if req.Owner != "" {
		v.Owner = req.Owner
	}
	v.UpdatedAt, v.UpdatedBy = millis(c.now), c.who.userName
	return v, nil
}

func handleVolumeDelete(s *Server, c *call) (any, error) {
	v, err := c.ws.uc.volume(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	delete(c.ws.uc.volumes, v.FullName)
	delete(c.ws.uc.grants, "VOLUME/"+v.FullName)
	return nil, nil
}

func (uc *unityCatalog) moveGrants(typ, oldFull, newFull string) {
	if g, ok := uc.grants[typ+"/"+oldFull]; ok {
		delete(uc.grants, typ+"/"+oldFull)
		uc.grants[typ+"/"+newFull] = g
	}
}

func handleUCModelCreate(s *Server, c *call) (any, error) {
	var req catalog.CreateRegisteredModelRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if req.Name == "" || strings.Contains(req.Name, ".") {
		return nil, errInvalidParameter("model name %q is not valid", req.Name)
	}
	sc, err := c.ws.uc.parentSchema(req.CatalogName, req.SchemaName)
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(req.Name)
	full := sc.FullName + "." + name
	if _, ok := c.ws.uc.models[full]; ok {
		return nil, errUCAlreadyExists("Registered model", full)
	}
	location := req.StorageLocation
	if location == "" {
		location = c.ws.storageRoot("models", full)
	}
	m := &catalog.RegisteredModelInfo{
		CatalogName: sc.CatalogName, SchemaName: sc.Name, Name: name, FullName: full, Comment: req.Comment,
		StorageLocation: location, MetastoreId: c.ws.uc.metastoreID, Owner: c.who.userName,
		CreatedAt: millis(c.now), CreatedBy: c.who.userName, UpdatedAt: millis(c.now), UpdatedBy: c.who.userName,
	}
	c.ws.uc.models[full] = m
	return m, nil
}

func handleUCModelGet(s *Server, c *call) (any, error) {
	return c.ws.uc.model(c.r.PathValue("name"))
}

func handleUCModelList(s *Server, c *call) (any, error) {
	prefix := ""
	if cat := c.query("catalog_name"); cat != "" {
		if _, err := c.ws.uc.catalog(cat); err != nil {
			return nil, err
		}
		prefix = strings.ToLower(cat) + "."
		if sch := c.query("schema_name"); sch != "" {
			sc, err := c.ws.uc.schema(cat + "." + sch)
			if err != nil {
				return nil, err
			}
			prefix = sc.FullName + "."
		}
	}
	resp := catalog.ListRegisteredModelsResponse{}
	for _, full := range slices.Sorted(maps.Keys(c.ws.uc.models)) {
		if strings.HasPrefix(full, prefix) {
			resp.RegisteredModels = append(resp.RegisteredModels, *c.ws.uc.models[full])
		}
	}
	return resp, nil
}

func handleUCModelUpdate(s *Server, c *call) (any, error) {
	var req catalog.UpdateRegisteredModelRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	m, err := c.ws.uc.model(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	if req.NewName != "" && strings.ToLower(req.NewName) != m.Name {
		newName := strings.ToLower(req.NewName)
		newFull := m.CatalogName + "." + m.SchemaName + "." + newName
		if _, ok := c.ws.uc.models[newFull]; ok {
			return nil, errUCAlreadyExists("Registered model", newFull)
		}
		delete(c.ws.uc.models, m.FullName)
		c.ws.uc.moveGrants("FUNCTION", m.FullName, newFull)
		m.Name, m.FullName = newName, newFull
		c.ws.uc.models[newFull] = m
	}
	if req.Comment != "" || slices.Contains(req.ForceSendFields, "Comment") {
		m.Comment = req.Comment
	}
	if req.Owner != "" {
		m.Owner = req.Owner
	}
	m.UpdatedAt, m.UpdatedBy = millis(c.now), c.who.userName
	return m, nil
}

func handleUCModelDelete(s *Server, c *call) (any, error) {
	m, err := c.ws.uc.model(c.r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	delete(c.ws.uc.models, m.FullName)
	delete(c.ws.uc.grants, "FUNCTION/"+m.FullName)
	return nil, nil
}

func handleTableGet(s *Server, c *call) (any, error) {
	return c.ws.uc.table(c.r.PathValue("name"))
}

func handleTableList(s *Server, c *call) (any, error) {
	sc, err := c.ws.uc.parentSchema(c.query("catalog_name"), c.query("schema_name"))
	if err != nil {
		return nil, err
	}
	resp := catalog.ListTablesResponse{}
	for _, full := range slices.Sorted(maps.Keys(c.ws.uc.tables)) {
		if strings.HasPrefix(full, sc.FullName+".") {
			resp.Tables = append(resp.Tables, *c.ws.uc.tables[full])
		}
	}
	return resp, nil
}

func handleTableExists(s *Server, c *call) (any, error) {
	_, err := c.ws.uc.table(c.r.PathValue("name"))
	return catalog.TableExistsResponse{TableExists: err == nil, ForceSendFields: []string{"TableExists"}}, nil
}

// securableTypes maps the securable type strings of the grants API
// (case-insensitive, '-' or '_') to the type grants are kept under.
// Registered models are FUNCTION securables; the Databricks CLI names them
// "registered-model".
var securableTypes = map[string]string{
	"CATALOG":          "CATALOG",
	"SCHEMA":           "SCHEMA",
	"TABLE":            "TABLE",
	"VOLUME":           "VOLUME",
	"FUNCTION":         "FUNCTION",
	"REGISTERED_MODEL": "FUNCTION",
}

// securable resolves the securable of a grants URL and returns its grants
// key.
func (c *call) securable() (string, error) {
	raw, full := c.r.PathValue("type"), c.r.PathValue("name")
	typ, ok := securableTypes[strings.ReplaceAll(strings.ToUpper(raw), "-", "_")]
	if !ok {
		return "", errInvalidParameter("securable type %q is not supported, valid are %q", raw, slices.Sorted(maps.Keys(securableTypes)))
	}
	uc := c.ws.uc
	var err error
	var name string
	switch typ {
	case "CATALOG":
		var x *catalog.CatalogInfo
		x, err = uc.catalog(full)
		if err == nil {
			name = x.FullName
		}
	case "SCHEMA":
		var x *catalog.SchemaInfo
		x, err = uc.schema(full)
		if err == nil {
			name = x.FullName
		}
	case "TABLE":
		var x *catalog.TableInfo
		x, err = uc.table(full)
		if err == nil {
			name = x.FullName
		}
	case "VOLUME":
		var x *catalog.VolumeInfo
		x, err = uc.volume(full)
		if err == nil {
			name = x.FullName
		}
	default:
		var x *catalog.RegisteredModelInfo
		x, err = uc.model(full)
		if err == nil {
			name = x.FullName
		}
	}
	if err != nil {
		return "", err
	}
	return typ + "/" + name, nil
}

func (uc *unityCatalog) assignments(key string) []catalog.PrivilegeAssignment {
	var out []catalog.PrivilegeAssignment
	g := uc.grants[key]
	for _, p := range slices.Sorted(maps.Keys(g)) {
		out = append(out, catalog.PrivilegeAssignment{Principal: p, Privileges: slices.Clone(g[p])})
	}
	return out
}

func handleGrantsGet(s *Server, c *call) (any, error) {
	key, err := c.securable()
	if err != nil {
		return nil, err
	}
	assignments := c.ws.uc.assignments(key)
	if p := c.query("principal"); p != "" {
		assignments = slices.DeleteFunc(assignments, func(a catalog.PrivilegeAssignment) bool { return a.Principal != p })
	}
	return catalog.GetPermissionsResponse{PrivilegeAssignments: assignments}, nil
}

func handleGrantsUpdate(s *Server, c *call) (any, error) {
	var req catalog.UpdatePermissions
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	key, err := c.securable()
	if err != nil {
		return nil, err
	}
	known := (*catalog.Privilege).Values(nil)
	next := map[string][]catalog.Privilege{}
	for p, privs := range c.ws.uc.grants[key] {
		next[p] = slices.Clone(privs)
	}
	for _, ch := range req.Changes {
		if ch.Principal == "" {
			return nil, errInvalidParameter("each change needs a principal")
		}
		for _, p := range slices.Concat(ch.Add, ch.Remove) {
			if !slices.Contains(known, p) {
				return nil, errInvalidParameter("privilege %q is not valid", p)
			}
		}
		privs := next[ch.Principal]
		for _, p := range ch.Remove {
			if p == catalog.PrivilegeAllPrivileges {
				// Removing ALL_PRIVILEGES revokes every privilege of the
				// principal, as the Databricks CLI relies on.
				privs = nil
				continue
			}
			privs = slices.DeleteFunc(privs, func(q catalog.Privilege) bool { return q == p })
		}
		for _, p := range ch.Add {
			if !slices.Contains(privs, p) {
				privs = append(privs, p)
			}
		}
		slices.Sort(privs)
		if len(privs) == 0 {
			delete(next, ch.Principal)
		} else {
			next[ch.Principal] = privs
		}
	}
	if len(next) == 0 {
		delete(c.ws.uc.grants, key)
	} else {
		c.ws.uc.grants[key] = next
	}
	resp := catalog.UpdatePermissionsResponse{}
	if !req.OmitPermissionsInResponse {
		resp.PrivilegeAssignments = c.ws.uc.assignments(key)
	}
	return resp, nil
}
