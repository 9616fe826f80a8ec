package bundle

import (
	"maps"
	"reflect"
	"slices"

	"github.com/databricks/databricks-sdk-go/service/apps"
	"github.com/databricks/databricks-sdk-go/service/catalog"
	"github.com/databricks/databricks-sdk-go/service/compute"
	"github.com/databricks/databricks-sdk-go/service/dashboards"
	"github.com/databricks/databricks-sdk-go/service/database"
	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/ml"
	"github.com/databricks/databricks-sdk-go/service/pipelines"
	"github.com/databricks/databricks-sdk-go/service/postgres"
	"github.com/databricks/databricks-sdk-go/service/serving"
	"github.com/databricks/databricks-sdk-go/service/sql"
	"github.com/databricks/databricks-sdk-go/service/vectorsearch"
	"github.com/databricks/databricks-sdk-go/service/workspace"
)

// The shapes of databricks.yml that are the bundle's own (not API request
// types), written as Go structs so the same schema walk checks them. They
// follow https://docs.databricks.com/aws/en/dev-tools/bundles/settings.

type rootConfig struct {
	Bundle       bundleConfig              `json:"bundle"`
	Include      []string                  `json:"include"`
	Workspace    workspaceConfig           `json:"workspace"`
	Variables    map[string]variableSpec   `json:"variables"`
	Resources    any                       `json:"resources"` // checked after merging, for the selected target
	Targets      map[string]targetConfig   `json:"targets"`
	Environments map[string]targetConfig   `json:"environments"` // deprecated name of targets
	Sync         syncConfig                `json:"sync"`
	Artifacts    map[string]artifactConfig `json:"artifacts"`
	Permissions  []permissionConfig        `json:"permissions"`
	RunAs        runAsConfig               `json:"run_as"`
	Presets      presetsConfig             `json:"presets"`
	Experimental any                       `json:"experimental"`
	Scripts      any                       `json:"scripts"`
	Python       any                       `json:"python"`
}

type bundleConfig struct {
	Name                 string `json:"name"`
	ClusterID            string `json:"cluster_id"`
	ComputeID            string `json:"compute_id"`
	DatabricksCliVersion string `json:"databricks_cli_version"`
	UUID                 string `json:"uuid"`
	Engine               string `json:"engine"`
	Git                  struct {
		OriginURL string `json:"origin_url"`
		Branch    string `json:"branch"`
	} `json:"git"`
	Deployment struct {
		FailOnActiveRuns bool `json:"fail_on_active_runs"`
		Lock             struct {
			Enabled bool `json:"enabled"`
			Force   bool `json:"force"`
		} `json:"lock"`
	} `json:"deployment"`
}

type workspaceConfig struct {
	Host                     string `json:"host"`
	Profile                  string `json:"profile"`
	RootPath                 string `json:"root_path"`
	FilePath                 string `json:"file_path"`
	StatePath                string `json:"state_path"`
	ArtifactPath             string `json:"artifact_path"`
	ResourcePath             string `json:"resource_path"`
	AuthType                 string `json:"auth_type"`
	AccountID                string `json:"account_id"`
	ClientID                 string `json:"client_id"`
	AzureClientID            string `json:"azure_client_id"`
	AzureTenantID            string `json:"azure_tenant_id"`
	AzureEnvironment         string `json:"azure_environment"`
	AzureLoginAppID          string `json:"azure_login_app_id"`
	AzureUseMSI              bool   `json:"azure_use_msi"`
	AzureWorkspaceResourceID string `json:"azure_workspace_resource_id"`
	GoogleServiceAccount     string `json:"google_service_account"`
	MetadataServiceURL       string `json:"metadata_service_url"`
	WorkspaceID              string `json:"workspace_id"`
	ExperimentalUnifiedHost  bool   `json:"experimental_is_unified_host"`
}

type variableSpec struct {
	Description string            `json:"description"`
	Default     any               `json:"default"`
	Type        variableType      `json:"type"`
	Lookup      map[string]string `json:"lookup"`
}

// variableType is the `type` of a variable; only complex is defined.
type variableType string

// Values lists the allowed variable types (used by the enum check).
func (*variableType) Values() []variableType { return []variableType{"complex"} }

type targetConfig struct {
	Default     bool                      `json:"default"`
	Mode        targetMode                `json:"mode"`
	ComputeID   string                    `json:"compute_id"`
	ClusterID   string                    `json:"cluster_id"`
	Bundle      bundleConfig              `json:"bundle"`
	Workspace   workspaceConfig           `json:"workspace"`
	Artifacts   map[string]artifactConfig `json:"artifacts"`
	Resources   any                       `json:"resources"`
	Sync        syncConfig                `json:"sync"`
	Permissions []permissionConfig        `json:"permissions"`
	Variables   map[string]any            `json:"variables"`
	RunAs       runAsConfig               `json:"run_as"`
	Presets     presetsConfig             `json:"presets"`
	Git         any                       `json:"git"`
}

// targetMode is a target's `mode`.
type targetMode string

// Values lists the modes Databricks defines.
func (*targetMode) Values() []targetMode { return []targetMode{"development", "production"} }

type artifactConfig struct {
	Type           string `json:"type"`
	Build          string `json:"build"`
	Path           string `json:"path"`
	Executable     string `json:"executable"`
	DynamicVersion bool   `json:"dynamic_version"`
	Files          []struct {
		Source string `json:"source"`
	} `json:"files"`
}

type syncConfig struct {
	Include []string `json:"include"`
	Exclude []string `json:"exclude"`
	Paths   []string `json:"paths"`
}

type permissionConfig struct {
	Level                string `json:"level"`
	UserName             string `json:"user_name"`
	GroupName            string `json:"group_name"`
	ServicePrincipalName string `json:"service_principal_name"`
}

type runAsConfig struct {
	GroupName            string `json:"group_name"`
	UserName             string `json:"user_name"`
	ServicePrincipalName string `json:"service_principal_name"`
}

type presetsConfig struct {
	NamePrefix             string            `json:"name_prefix"`
	PipelinesDevelopment   bool              `json:"pipelines_development"`
	TriggerPauseStatus     jobs.PauseStatus  `json:"trigger_pause_status"`
	JobsMaxConcurrentRuns  int               `json:"jobs_max_concurrent_runs"`
	Tags                   map[string]string `json:"tags"`
	SourceLinkedDeployment bool              `json:"source_linked_deployment"`
	ArtifactsDynamicVer    bool              `json:"artifacts_dynamic_version"`
}

type grantConfig struct {
	Principal  string   `json:"principal"`
	Privileges []string `json:"privileges"`
}

// Resource types: the SDK's request type plus the fields the Databricks
// CLI adds (permissions or grants, lifecycle, and its own overrides). The
// list and the additions follow the CLI's published bundle schema
// (bundle/schema/jsonschema.json in databricks/cli) and its
// bundle/config/resources package; a type the SDK has no request type for
// is written out here the way the CLI declares it.

// permissioned holds the keys the Databricks CLI adds to each resource
// type it deploys with permissions: who may do what, and the lifecycle
// block. It is embedded in the resource types below.
type permissioned struct {
	Permissions []permissionConfig `json:"permissions"`
	Lifecycle   lifecycleConfig    `json:"lifecycle"`
}

type lifecycleConfig struct {
	PreventDestroy bool `json:"prevent_destroy"`
	// Started applies to apps, clusters and SQL warehouses.
	Started bool `json:"started"`
}

type jobResource struct {
	jobs.JobSettings
	permissioned
}

type jobRunResource struct {
	jobs.RunNow
	Lifecycle struct {
		PreventDestroy bool `json:"prevent_destroy"`
		Triggers       []struct {
			OnBundleDeploy bool `json:"on_bundle_deploy"`
		} `json:"triggers"`
	} `json:"lifecycle"`
}

type servingResource struct {
	serving.CreateServingEndpoint
	permissioned
}

type pipelineResource struct {
	pipelines.CreatePipeline
	permissioned
	CascadeOnDestroy bool `json:"cascade_on_destroy"`
}

type experimentResource struct {
	ml.CreateExperiment
	permissioned
	// Description is written by the MLOps Stacks template on every
	// experiment; neither the SDK's type nor the CLI's schema has it (the
	// CLI warns and drops it), so it is accepted and not deployed.
	Description string `json:"description"`
}

type modelResource struct {
	ml.CreateModelRequest
	permissioned
}

type registeredModelResource struct {
	catalog.CreateRegisteredModelRequest
	Grants    []grantConfig   `json:"grants"`
	Lifecycle lifecycleConfig `json:"lifecycle"`
}

type schemaResource struct {
	catalog.CreateSchema
	Grants    []grantConfig   `json:"grants"`
	Lifecycle lifecycleConfig `json:"lifecycle"`
}

type volumeResource struct {
	catalog.CreateVolumeRequestContent
	Grants    []grantConfig   `json:"grants"`
	Lifecycle lifecycleConfig `json:"lifecycle"`
}

type catalogResource struct {
	catalog.CreateCatalog
	Grants    []grantConfig   `json:"grants"`
	Lifecycle lifecycleConfig `json:"lifecycle"`
}

type externalLocationResource struct {
	catalog.CreateExternalLocation
	Grants    []grantConfig   `json:"grants"`
	Lifecycle lifecycleConfig `json:"lifecycle"`
}

type qualityMonitorResource struct {
	catalog.CreateMonitor
	TableName string          `json:"table_name"`
	Lifecycle lifecycleConfig `json:"lifecycle"`
}

type secretResource struct {
	catalog.Secret
	Grants    []grantConfig   `json:"grants"`
	Lifecycle lifecycleConfig `json:"lifecycle"`
}

type clusterResource struct {
	compute.ClusterSpec
	permissioned
}

type instancePoolResource struct {
	compute.CreateInstancePool
	permissioned
}

type sqlWarehouseResource struct {
	sql.CreateWarehouseRequest
	permissioned
}

type alertResource struct {
	sql.AlertV2
	permissioned
	// FilePath names a .dbalert.json file holding the definition.
	FilePath string `json:"file_path"`
}

type appResource struct {
	apps.App
	permissioned
	// Config is the app.yaml content the CLI writes for the app.
	Config struct {
		Command []string `json:"command"`
		Env     []struct {
			Name      string `json:"name"`
			Value     string `json:"value"`
			ValueFrom string `json:"value_from"`
		} `json:"env"`
	} `json:"config"`
}

type dashboardResource struct {
	DisplayName string                    `json:"display_name"`
	WarehouseID string                    `json:"warehouse_id"`
	ParentPath  string                    `json:"parent_path"`
	Path        string                    `json:"path"`
	DashboardID string                    `json:"dashboard_id"`
	Etag        string                    `json:"etag"`
	CreateTime  string                    `json:"create_time"`
	UpdateTime  string                    `json:"update_time"`
	FilePath    string                    `json:"file_path"`
	EmbedCreds  bool                      `json:"embed_credentials"`
	DatasetCat  string                    `json:"dataset_catalog"`
	DatasetSch  string                    `json:"dataset_schema"`
	Serialized  any                       `json:"serialized_dashboard"`
	LifecycleSt dashboards.LifecycleState `json:"lifecycle_state"`
	permissioned
}

type genieSpaceResource struct {
	Title           string `json:"title"`
	Description     string `json:"description"`
	WarehouseID     string `json:"warehouse_id"`
	ParentPath      string `json:"parent_path"`
	Etag            string `json:"etag"`
	SerializedSpace any    `json:"serialized_space"`
	FilePath        string `json:"file_path"`
	permissioned
}

type secretScopeResource struct {
	Name             string                                      `json:"name"`
	BackendType      workspace.ScopeBackendType                  `json:"backend_type"`
	KeyvaultMetadata *workspace.AzureKeyVaultSecretScopeMetadata `json:"keyvault_metadata"`
	permissioned
}

type databaseInstanceResource struct {
	database.DatabaseInstance
	permissioned
}

type databaseCatalogResource struct {
	database.DatabaseCatalog
	Lifecycle lifecycleConfig `json:"lifecycle"`
}

type syncedDatabaseTableResource struct {
	database.SyncedDatabaseTable
	Lifecycle lifecycleConfig `json:"lifecycle"`
}

type vectorSearchEndpointResource struct {
	vectorsearch.CreateEndpoint
	permissioned
}

type vectorSearchIndexResource struct {
	vectorsearch.CreateVectorIndexRequest
	Grants    []grantConfig   `json:"grants"`
	Lifecycle lifecycleConfig `json:"lifecycle"`
}

// The Lakebase (postgres_*) resources: the SDK's spec plus the ids and
// parents the CLI takes.

type postgresProjectResource struct {
	postgres.ProjectSpec
	ProjectID     string `json:"project_id"`
	PurgeOnDelete bool   `json:"purge_on_delete"`
	permissioned
}

type postgresBranchResource struct {
	postgres.BranchSpec
	BranchID        string          `json:"branch_id"`
	Parent          string          `json:"parent"`
	ReplaceExisting bool            `json:"replace_existing"`
	PurgeOnDelete   bool            `json:"purge_on_delete"`
	Lifecycle       lifecycleConfig `json:"lifecycle"`
}

type postgresEndpointResource struct {
	postgres.EndpointSpec
	EndpointID      string          `json:"endpoint_id"`
	Parent          string          `json:"parent"`
	ReplaceExisting bool            `json:"replace_existing"`
	Lifecycle       lifecycleConfig `json:"lifecycle"`
}

type postgresRoleResource struct {
	postgres.RoleRoleSpec
	RoleID          string          `json:"role_id"`
	Parent          string          `json:"parent"`
	ReplaceExisting bool            `json:"replace_existing"`
	Lifecycle       lifecycleConfig `json:"lifecycle"`
}

type postgresDatabaseResource struct {
	postgres.DatabaseDatabaseSpec
	DatabaseID      string          `json:"database_id"`
	Parent          string          `json:"parent"`
	ReplaceExisting bool            `json:"replace_existing"`
	Lifecycle       lifecycleConfig `json:"lifecycle"`
}

type postgresCatalogResource struct {
	postgres.CatalogCatalogSpec
	CatalogID string          `json:"catalog_id"`
	Lifecycle lifecycleConfig `json:"lifecycle"`
}

type postgresSyncedTableResource struct {
	postgres.SyncedTableSyncedTableSpec
	SyncedTableID string          `json:"synced_table_id"`
	Lifecycle     lifecycleConfig `json:"lifecycle"`
}

// resourceTypes maps each resource type the Databricks CLI accepts to the
// type its entries are checked against.
var resourceTypes = map[string]reflect.Type{
	"alerts":                  reflect.TypeOf(alertResource{}),
	"apps":                    reflect.TypeOf(appResource{}),
	"catalogs":                reflect.TypeOf(catalogResource{}),
	"clusters":                reflect.TypeOf(clusterResource{}),
	"dashboards":              reflect.TypeOf(dashboardResource{}),
	"database_catalogs":       reflect.TypeOf(databaseCatalogResource{}),
	"database_instances":      reflect.TypeOf(databaseInstanceResource{}),
	"experiments":             reflect.TypeOf(experimentResource{}),
	"external_locations":      reflect.TypeOf(externalLocationResource{}),
	"genie_spaces":            reflect.TypeOf(genieSpaceResource{}),
	"instance_pools":          reflect.TypeOf(instancePoolResource{}),
	"job_runs":                reflect.TypeOf(jobRunResource{}),
	"jobs":                    reflect.TypeOf(jobResource{}),
	"model_serving_endpoints": reflect.TypeOf(servingResource{}),
	"models":                  reflect.TypeOf(modelResource{}),
	"pipelines":               reflect.TypeOf(pipelineResource{}),
	"postgres_branches":       reflect.TypeOf(postgresBranchResource{}),
	"postgres_catalogs":       reflect.TypeOf(postgresCatalogResource{}),
	"postgres_databases":      reflect.TypeOf(postgresDatabaseResource{}),
	"postgres_endpoints":      reflect.TypeOf(postgresEndpointResource{}),
	"postgres_projects":       reflect.TypeOf(postgresProjectResource{}),
	"postgres_roles":          reflect.TypeOf(postgresRoleResource{}),
	"postgres_synced_tables":  reflect.TypeOf(postgresSyncedTableResource{}),
	"quality_monitors":        reflect.TypeOf(qualityMonitorResource{}),
	"registered_models":       reflect.TypeOf(registeredModelResource{}),
	"schemas":                 reflect.TypeOf(schemaResource{}),
	"secret_scopes":           reflect.TypeOf(secretScopeResource{}),
	"secrets":                 reflect.TypeOf(secretResource{}),
	"sql_warehouses":          reflect.TypeOf(sqlWarehouseResource{}),
	"synced_database_tables":  reflect.TypeOf(syncedDatabaseTableResource{}),
	"vector_search_endpoints": reflect.TypeOf(vectorSearchEndpointResource{}),
	"vector_search_indexes":   reflect.TypeOf(vectorSearchIndexResource{}),
	"volumes":                 reflect.TypeOf(volumeResource{}),
}

// Permission levels per resource type, from the permissions API.
var (
	jobLevels     = []string{"CAN_VIEW", "CAN_MANAGE_RUN", "IS_OWNER", "CAN_MANAGE"}
	servingLevels = []string{"CAN_QUERY", "CAN_VIEW", "CAN_MANAGE"}
	// Top-level bundle permissions are mapped onto each resource type.
	bundleLevels = []string{"CAN_VIEW", "CAN_RUN", "CAN_MANAGE"}
)

// objectLevels are, for the other types with object permissions, the
// levels the permissions API accepts and how the bundle's top-level levels
// map onto them ("" where a type has no counterpart), as the Databricks
// CLI maps them.
var objectLevels = map[string]struct {
	what    string
	levels  []string
	fromTop map[string]string
}{
	"experiments": {"experiment", []string{"CAN_READ", "CAN_EDIT", "CAN_MANAGE"},
		map[string]string{"CAN_VIEW": "CAN_READ", "CAN_RUN": ""}},
	"models": {"model", []string{"CAN_READ", "CAN_EDIT", "CAN_MANAGE_STAGING_VERSIONS", "CAN_MANAGE_PRODUCTION_VERSIONS", "CAN_MANAGE"},
		map[string]string{"CAN_VIEW": "CAN_READ", "CAN_RUN": ""}},
	"pipelines": {"pipeline", []string{"CAN_VIEW", "CAN_RUN", "CAN_MANAGE", "IS_OWNER"}, nil},
	"clusters": {"cluster", []string{"CAN_ATTACH_TO", "CAN_RESTART", "CAN_MANAGE"},
		map[string]string{"CAN_VIEW": "CAN_ATTACH_TO", "CAN_RUN": "CAN_RESTART"}},
	"sql_warehouses": {"SQL warehouse", []string{"CAN_VIEW", "CAN_MONITOR", "CAN_USE", "CAN_MANAGE", "IS_OWNER"},
		map[string]string{"CAN_RUN": "CAN_MONITOR"}},
	"secret_scopes": {"secret scope", []string{"READ", "WRITE", "MANAGE"},
		map[string]string{"CAN_VIEW": "READ", "CAN_MANAGE": "MANAGE", "CAN_RUN": ""}},
	"dashboards": {"dashboard", []string{"CAN_READ", "CAN_RUN", "CAN_EDIT", "CAN_MANAGE"},
		map[string]string{"CAN_VIEW": "CAN_READ", "CAN_RUN": ""}},
	"apps": {"app", []string{"CAN_USE", "CAN_MANAGE"},
		map[string]string{"CAN_VIEW": "CAN_USE", "CAN_RUN": ""}},
	"alerts": {"alert", []string{"CAN_READ", "CAN_RUN", "CAN_EDIT", "CAN_MANAGE"},
		map[string]string{"CAN_VIEW": "CAN_READ"}},
}

// ResourceTypes are the resource types the Databricks CLI accepts under
// resources, sorted.
func ResourceTypes() []string { return slices.Sorted(maps.Keys(resourceTypes)) }
