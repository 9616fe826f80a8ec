package bundle

// This file is the contract between the loader (which builds a Bundle for
// one target) and its consumers: validate, plan, deploy, run and destroy.

// Bundle is a Databricks bundle resolved for one target: includes read,
// target overrides merged, variables substituted, presets of the target's
// mode applied and local paths translated to workspace paths. References
// to deploy-time values (`${resources.jobs.<key>.id}` and the like) are left
// in place as strings for the deploy engine to resolve.
type Bundle struct {
	// Dir is the bundle root directory (holding databricks.yml) on disk.
	Dir string
	// RootFile is the path of databricks.yml (or .yaml) as given to the loader.
	RootFile string
	// Name is bundle.name.
	Name string
	// Target is the selected target's name.
	Target string
	// Mode is the target's mode: "development", "production" or "".
	Mode string
	// Workspace holds the resolved workspace settings.
	Workspace Workspace
	// RunAs is the identity jobs run as, if the target sets one.
	RunAs *RunAs
	// Variables are the resolved values of every declared variable.
	Variables map[string]any
	// Jobs are the job resources by resource key.
	Jobs map[string]*Job
	// ServingEndpoints are the model serving endpoint resources by key.
	ServingEndpoints map[string]*ServingEndpoint
	// Sync says which files a deploy uploads and where they go.
	Sync Sync
	// CurrentUser is the identity the bundle was resolved for; Placeholder
	// is true when it was not looked up (offline).
	CurrentUser User
	// Targets are the names of every target the bundle defines, in file
	// order (empty when it defines none and "default" is used).
	Targets []string
	// Resources lists every resource of every type, sorted by type and key,
	// for summaries; Jobs and ServingEndpoints hold the full configuration.
	Resources []Resource
	// WorkspaceRefs are the literal cluster and warehouse ids the bundle
	// names, for checks against a workspace.
	WorkspaceRefs []WorkspaceRef
	// Git is the resolved bundle.git block: what ${bundle.git.*} expands
	// to and what the deployment's metadata.json records.
	Git Git
	// Artifacts are the entries of the artifacts mapping, sorted by name,
	// with the Databricks CLI's defaults applied.
	Artifacts []Artifact `json:",omitempty"`
	// ArtifactFiles are the built files the jobs reference, sorted by Abs.
	// Each reference in Jobs already holds the file's Remote path.
	ArtifactFiles []ArtifactFile `json:",omitempty"`
}

// Artifact is one entry of the bundle's artifacts mapping: something a
// command builds before a deploy (a Python wheel, a jar) and whose output
// is uploaded to workspace.artifact_path.
type Artifact struct {
	Name string
	// Type is "whl", "jar" or empty.
	Type string
	// Path is the directory the build runs in, on disk.
	Path string
	// Build is the build command; empty when the files are made elsewhere.
	Build string
	// Executable names the shell to run Build with (bash, sh, ...), when set.
	Executable string
	// Files are globs on disk of what the build produces.
	Files []string
	// DynamicVersion is dynamic_version: true (type whl only).
	DynamicVersion bool
	// Location is where the artifact's key is written.
	Location Location
}

// ArtifactFile is a file an artifact produced that a job references.
type ArtifactFile struct {
	// Artifact is the artifact's name.
	Artifact string
	// Abs is the file on disk.
	Abs string
	// Remote is where it is uploaded: <artifact_path>/.internal/<file name>.
	Remote string
}

// Git describes the checkout a bundle is deployed from, as the Databricks
// CLI records it under bundle.git.
type Git struct {
	OriginURL      string `json:"origin_url,omitempty"`
	Branch         string `json:"branch,omitempty"`
	ActualBranch   string `json:"actual_branch,omitempty"`
	Commit         string `json:"commit,omitempty"`
	BundleRootPath string `json:"bundle_root_path,omitempty"`
	// Inferred is true when the values came from the checkout or the CI
	// environment rather than from databricks.yml.
	Inferred bool `json:"inferred,omitempty"`
}

// Resource is one resource of any type.
type Resource struct {
	Type     string // the resources key: jobs, model_serving_endpoints, pipelines, ...
	Key      string
	Name     string // the resolved name, when the resource has one
	Location Location
	// Config is the resource in its create API's shape, JSON-compatible as
	// for Job.Config, without the permissions, grants and lifecycle keys
	// the bundle format adds. For jobs and serving endpoints it is the
	// same map as Job.Config and ServingEndpoint.Config.
	Config map[string]any `json:"-"`
	// Permissions are the resource's permissions, the bundle's top-level
	// ones included, for types with object permissions.
	Permissions []Permission `json:"-"`
	// Grants are the Unity Catalog privileges of a schema, volume,
	// registered model or catalog.
	Grants []Grant `json:"-"`
}

// Grant gives one principal Unity Catalog privileges on a resource.
type Grant struct {
	Principal  string
	Privileges []string
	Location   Location
}

// WorkspaceRef is a literal id of a workspace object the bundle uses.
type WorkspaceRef struct {
	Kind     string // "cluster" or "warehouse"
	ID       string
	Location Location
}

// Workspace is the resolved `workspace` block.
type Workspace struct {
	Host      string
	Profile   string
	RootPath  string // default /Workspace/Users/<user>/.bundle/<name>/<target>
	FilePath  string // default <RootPath>/files
	StatePath string // default <RootPath>/state
	// ArtifactPath is where built artifacts go; default <RootPath>/artifacts.
	ArtifactPath string
	// ResourcePath is where dashboards and alerts go unless they name a
	// parent_path; default <RootPath>/resources.
	ResourcePath string
}

// RunAs is the resolved `run_as` block; exactly one field is set.
type RunAs struct {
	UserName             string
	ServicePrincipalName string
}

// User is the identity a bundle is resolved and deployed as.
type User struct {
	UserName           string // e.g. someone@example.com, or an application id
	ShortName          string // the part before @, with non-alphanumerics as _
	IsServicePrincipal bool
	// Placeholder is true when the user was not looked up and UserName is
	// a stand-in shown as such (offline validation).
	Placeholder bool
}

// Location points at where a value was written.
type Location struct {
	File   string
	Line   int
	Column int
}

// Job is one job resource.
type Job struct {
	Key string
	// Config is the job's settings as JSON-compatible values (maps, slices,
	// strings, float64/int, bools) in the Jobs API 2.2 shape, ready to be
	// decoded into jobs.JobSettings once deploy-time references are resolved.
	// Notebook and file paths are already workspace paths.
	Config map[string]any
	// Permissions are the job's permissions from the bundle.
	Permissions []Permission
	// Location is where the job's key is defined.
	Location Location
}

// ServingEndpoint is one model serving endpoint resource.
type ServingEndpoint struct {
	Key string
	// Config is the endpoint in the serving endpoints create API shape
	// (name, config, tags, ...), JSON-compatible as for Job.Config.
	Config      map[string]any
	Permissions []Permission
	Location    Location
}

// Permission grants one principal a level on a resource.
type Permission struct {
	Level                string
	UserName             string
	GroupName            string
	ServicePrincipalName string
	Location             Location
}

// Sync is the bundle's `sync` block, resolved as the Databricks CLI does
// (bundle/config/mutator/sync_infer_root.go): the sync root is Dir, or the
// closest ancestor of Dir that holds every entry of sync.paths (for
// example `../common`), and files keep their place relative to it under
// workspace.file_path.
type Sync struct {
	// Root is the sync root directory on disk: Dir or an ancestor of it.
	Root string
	// Paths are the directories (or files) to upload, as slash paths
	// relative to Root; by default Dir itself.
	Paths []string
	// Include and Exclude are gitignore-style patterns relative to Root.
	Include []string
	Exclude []string
}
