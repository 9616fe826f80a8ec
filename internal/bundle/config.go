package bundle

import (
	"reflect"

	"github.com/databricks/databricks-sdk-go/service/catalog"
	"github.com/databricks/databricks-sdk-go/service/compute"
	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/ml"
	"github.com/databricks/databricks-sdk-go/service/pipelines"
	"github.com/databricks/databricks-sdk-go/service/serving"
)

// The shapes of databricks.yml that are the bundle's own (not API request
// types), written as Go structs so the same schema walk checks them. They
// follow https://docs.databricks.com/aws/en/dev-tools/bundles/settings.

type rootConfig struct {
	Bundle       bundleConfig            `json:"bundle"`
	Include      []string                `json:"include"`
	Workspace    workspaceConfig         `json:"workspace"`
	Variables    map[string]variableSpec `json:"variables"`
	Resources    any                     `json:"resources"` // checked after merging, for the selected target
	Targets      map[string]targetConfig `json:"targets"`
	Environments map[string]targetConfig `json:"environments"` // deprecated name of targets
	Sync         syncConfig              `json:"sync"`
	Artifacts    map[string]any          `json:"artifacts"`
	Permissions  []permissionConfig      `json:"permissions"`
	RunAs        runAsConfig             `json:"run_as"`
	Presets      presetsConfig           `json:"presets"`
	Experimental any                     `json:"experimental"`
	Scripts      any                     `json:"scripts"`
	Python       any                     `json:"python"`
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
	Default     bool               `json:"default"`
	Mode        targetMode         `json:"mode"`
	ComputeID   string             `json:"compute_id"`
	ClusterID   string             `json:"cluster_id"`
	Bundle      bundleConfig       `json:"bundle"`
	Workspace   workspaceConfig    `json:"workspace"`
	Artifacts   map[string]any     `json:"artifacts"`
	Resources   any                `json:"resources"`
	Sync        syncConfig         `json:"sync"`
	Permissions []permissionConfig `json:"permissions"`
	Variables   map[string]any     `json:"variables"`
	RunAs       runAsConfig        `json:"run_as"`
	Presets     presetsConfig      `json:"presets"`
	Git         any                `json:"git"`
}

// targetMode is a target's `mode`.
type targetMode string

// Values lists the modes Databricks defines.
func (*targetMode) Values() []targetMode { return []targetMode{"development", "production"} }

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

// Resource types: the SDK's request type plus the bundle's own fields.

type jobResource struct {
	jobs.JobSettings
	Permissions []permissionConfig `json:"permissions"`
}

type servingResource struct {
	serving.CreateServingEndpoint
	Permissions []permissionConfig `json:"permissions"`
}

type pipelineResource struct {
	pipelines.CreatePipeline
	Permissions []permissionConfig `json:"permissions"`
}

type experimentResource struct {
	ml.CreateExperiment
	Permissions []permissionConfig `json:"permissions"`
}

type modelResource struct {
	ml.CreateModelRequest
	Permissions []permissionConfig `json:"permissions"`
}

type registeredModelResource struct {
	catalog.CreateRegisteredModelRequest
	Grants []grantConfig `json:"grants"`
}

type schemaResource struct {
	catalog.CreateSchema
	Grants []grantConfig `json:"grants"`
}

type volumeResource struct {
	catalog.CreateVolumeRequestContent
	Grants []grantConfig `json:"grants"`
}

type clusterResource struct {
	compute.ClusterSpec
	Permissions []permissionConfig `json:"permissions"`
}

// resourceTypes maps each resource type of a bundle to the type its entries
// are checked against; nil means the type is known but not checked field by
// field (its API shape is not simple enough to check strictly).
var resourceTypes = map[string]reflect.Type{
	"jobs":                    reflect.TypeOf(jobResource{}),
	"model_serving_endpoints": reflect.TypeOf(servingResource{}),
	"pipelines":               reflect.TypeOf(pipelineResource{}),
	"experiments":             reflect.TypeOf(experimentResource{}),
	"models":                  reflect.TypeOf(modelResource{}),
	"registered_models":       reflect.TypeOf(registeredModelResource{}),
	"schemas":                 reflect.TypeOf(schemaResource{}),
	"volumes":                 reflect.TypeOf(volumeResource{}),
	"clusters":                reflect.TypeOf(clusterResource{}),
	"quality_monitors":        nil,
	"dashboards":              nil,
	"apps":                    nil,
	"secret_scopes":           nil,
	"sql_warehouses":          nil,
	"database_instances":      nil,
	"database_catalogs":       nil,
	"synced_database_tables":  nil,
}

// Permission levels per resource type, from the permissions API.
var (
	jobLevels     = []string{"CAN_VIEW", "CAN_MANAGE_RUN", "IS_OWNER", "CAN_MANAGE"}
	servingLevels = []string{"CAN_QUERY", "CAN_VIEW", "CAN_MANAGE"}
	// Top-level bundle permissions are mapped onto each resource type.
	bundleLevels = []string{"CAN_VIEW", "CAN_RUN", "CAN_MANAGE"}
)
