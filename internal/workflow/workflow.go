package workflow

// Workflow is one GitHub Actions workflow file.
type Workflow struct {
	Name string
	On   Triggers
	// Permissions of the GITHUB_TOKEN for all jobs. Nil omits the key; an
	// empty, non-nil map emits "permissions: {}" (no access).
	Permissions map[string]string
	Concurrency *Concurrency
	Env         []KV
	Jobs        []Job
}

// Triggers are the events that start a workflow; nil events are omitted.
type Triggers struct {
	Push             *Filter
	PullRequest      *Filter
	WorkflowDispatch bool
}

// Filter narrows a push or pull_request trigger.
type Filter struct {
	Branches []string
	Paths    []string
}

// Concurrency is a concurrency group and whether a new run cancels the
// one in progress.
type Concurrency struct {
	Group            string
	CancelInProgress bool
}

// Job is one job of a workflow.
type Job struct {
	// ID is the job's key under jobs:.
	ID          string
	Name        string
	RunsOn      string
	Needs       []string
	If          string
	Environment string
	// Permissions as in Workflow.Permissions.
	Permissions    map[string]string
	Concurrency    *Concurrency
	TimeoutMinutes int
	Env            []KV
	Steps          []Step
}

// Step is one step of a job.
type Step struct {
	Name string
	ID   string
	If   string
	Uses string
	// UsesComment is written after uses: as "# comment", typically the
	// version a SHA pin stands for.
	UsesComment      string
	With             []KV
	Env              []KV
	Shell            string
	WorkingDirectory string
	Run              string
}

// KV is one entry of an ordered string mapping such as env: or with:.
type KV struct {
	Key   string
	Value string
}
