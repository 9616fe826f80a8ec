package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go/service/iam"
	"github.com/databricks/databricks-sdk-go/service/jobs"
	"github.com/databricks/databricks-sdk-go/service/serving"
	"github.com/databricks/databricks-sdk-go/service/workspace"
)

// localFile is one file to sync, with its content hash.
type localFile struct {
	Rel      string // slash-separated, relative to the bundle root
	Abs      string // on disk
	Remote   string // workspace path
	Notebook bool
	Lang     workspace.Language // set for source notebooks
	Hash     string             // hex sha256 of the content
}

// notebookLanguage maps a source notebook's extension to its language.
func notebookLanguage(rel string) workspace.Language {
	switch strings.ToLower(path.Ext(rel)) {
	case ".py":
		return workspace.LanguagePython
	case ".sql":
		return workspace.LanguageSql
	case ".scala":
		return workspace.LanguageScala
	case ".r":
		return workspace.LanguageR
	}
	return ""
}

// hashBuffers are the read buffers of hashFile: hashing thousands of small
// files with io.Copy would allocate 32 KiB for every one of them.
var hashBuffers = sync.Pool{New: func() any { return new([32 << 10]byte) }}

// hashFile returns the hex sha256 of a file's content.
func hashFile(abs string) (string, error) {
	f, err := os.Open(abs)
	if err != nil {
		return "", fmt.Errorf("failed to read %q: %w", abs, err)
	}
	defer f.Close()
	h := sha256.New()
	buf := hashBuffers.Get().(*[32 << 10]byte)
	defer hashBuffers.Put(buf)
	// Hide the file's WriteTo, which would copy through a new buffer.
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, buf[:]); err != nil {
		return "", fmt.Errorf("failed to read %q: %w", abs, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// refPattern matches a deploy-time reference to another job's id.
var refPattern = regexp.MustCompile(`\$\{resources\.jobs\.([A-Za-z0-9_\-]+)\.id\}`)

// jobRefs returns the sorted, distinct job keys a config refers to.
func jobRefs(v any) []string {
	seen := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for _, c := range t {
				walk(c)
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		case string:
			for _, m := range refPattern.FindAllStringSubmatch(t, -1) {
				seen[m[1]] = true
			}
		}
	}
	walk(v)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// resolveRefs returns a deep copy of v with job references replaced by ids.
// A string that is exactly one reference becomes the number (job_id fields
// are integers); a reference inside a longer string is replaced as text.
func resolveRefs(v any, ids map[string]string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, c := range t {
			out[k] = resolveRefs(c, ids)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = resolveRefs(c, ids)
		}
		return out
	case string:
		if m := refPattern.FindStringSubmatch(t); m != nil && m[0] == t {
			if id, ok := ids[m[1]]; ok {
				return json.Number(id)
			}
			return t
		}
		return refPattern.ReplaceAllStringFunc(t, func(s string) string {
			if id, ok := ids[refPattern.FindStringSubmatch(s)[1]]; ok {
				return id
			}
			return s
		})
	}
	return v
}

// jobOrder returns the job keys so that every job comes after the jobs it
// refers to, ties broken by name. A reference to an unknown job or a cycle
// is an error naming the keys.
func jobOrder(js map[string]*bundle.Job) ([]string, error) {
	keys := make([]string, 0, len(js))
	for k := range js {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	refs := map[string][]string{}
	for _, k := range keys {
		refs[k] = jobRefs(js[k].Config)
		for _, r := range refs[k] {
			if _, ok := js[r]; !ok {
				return nil, fmt.Errorf("job %q refers to unknown job %q in ${resources.jobs.%s.id}; define the job or remove the reference", k, r, r)
			}
		}
	}
	const (
		unvisited = iota
		visiting
		done
	)
	mark := map[string]int{}
	var order []string
	var stack []string
	var visit func(string) error
	visit = func(k string) error {
		switch mark[k] {
		case done:
			return nil
		case visiting:
			i := 0
			for stack[i] != k {
				i++
			}
			cycle := append(append([]string{}, stack[i:]...), k)
			return fmt.Errorf("jobs refer to each other's ids in a cycle: %s; break the cycle", strings.Join(cycle, " -> "))
		}
		mark[k] = visiting
		stack = append(stack, k)
		for _, r := range refs[k] {
			if err := visit(r); err != nil {
				return err
			}
		}
		stack = stack[:len(stack)-1]
		mark[k] = done
		order = append(order, k)
		return nil
	}
	for _, k := range keys {
		if err := visit(k); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// unknownBase is the first sentinel id standing for a job not created yet;
// sentinels are swapped back to the reference text after normalisation.
const unknownBase = int64(1) << 62

// jobSettings converts a job's config into the settings to send and their
// normalised JSON form (what state records and plans compare), with the
// bundle's run_as and the deployment stamp applied. ids holds the known ids
// of other jobs; references to jobs without an id are rendered as
// the reference text in the normalised form (and the settings are only used
// when every id is known).
func jobSettings(b *bundle.Bundle, j *bundle.Job, ids map[string]string) (*jobs.JobSettings, map[string]any, error) {
	all := map[string]string{}
	sentinel := map[string]string{}
	for i, r := range jobRefs(j.Config) {
		if id, ok := ids[r]; ok {
			all[r] = id
			continue
		}
		s := strconv.FormatInt(unknownBase+int64(i), 10)
		all[r] = s
		sentinel[s] = "${resources.jobs." + r + ".id}"
	}
	cfg := resolveRefs(j.Config, all).(map[string]any)
	applyDefaults("jobs", cfg)
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode job %q: %w", j.Key, err)
	}
	var s jobs.JobSettings
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, nil, fmt.Errorf("failed to read the settings of job %q: %w", j.Key, err)
	}
	if s.RunAs == nil && b.RunAs != nil {
		// The bundle's (or target's) run_as applies to every job that does
		// not name its own, as in the Databricks CLI:
		// https://docs.databricks.com/en/dev-tools/bundles/run-as.html
		s.RunAs = &jobs.JobRunAs{UserName: b.RunAs.UserName, ServicePrincipalName: b.RunAs.ServicePrincipalName}
	}
	s.Deployment = &jobs.JobDeployment{Kind: jobs.JobDeploymentKindBundle, MetadataFilePath: path.Join(b.Workspace.StatePath, metadataFile)}
	s.EditMode = jobs.JobEditModeUiLocked
	s.Format = jobs.FormatMultiTask
	norm, err := normalise(s)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode job %q: %w", j.Key, err)
	}
	if len(sentinel) > 0 {
		norm = unsentinel(norm, sentinel).(map[string]any)
	}
	return &s, norm, nil
}

func unsentinel(v any, sentinel map[string]string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			t[k] = unsentinel(c, sentinel)
		}
	case []any:
		for i, c := range t {
			t[i] = unsentinel(c, sentinel)
		}
	case json.Number:
		if ref, ok := sentinel[string(t)]; ok {
			return ref
		}
	case string:
		for s, ref := range sentinel {
			t = strings.ReplaceAll(t, s, ref)
		}
		return t
	}
	return v
}

// normalise returns the JSON object form of v with numbers as json.Number.
func normalise(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := decodeJSON(raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// endpointSettings converts a serving endpoint's config into the create
// request and its normalised form.
func endpointSettings(e *bundle.ServingEndpoint) (*serving.CreateServingEndpoint, map[string]any, error) {
	raw, err := json.Marshal(e.Config)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode serving endpoint %q: %w", e.Key, err)
	}
	var req serving.CreateServingEndpoint
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, nil, fmt.Errorf("failed to read the settings of serving endpoint %q: %w", e.Key, err)
	}
	if req.Name == "" {
		return nil, nil, fmt.Errorf("serving endpoint %q has no name; set resources.model_serving_endpoints.%s.name", e.Key, e.Key)
	}
	norm, err := normalise(req)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode serving endpoint %q: %w", e.Key, err)
	}
	return &req, norm, nil
}

// acl returns the access control list to set on a resource: the bundle's
// grants plus ownerLevel for the deploying user, who must keep the right to
// deploy again. A resource without permissions in the bundle gets no ACL
// (nil) and its permissions are left as the workspace sets them.
func acl(perms []bundle.Permission, deployer string, ownerLevel iam.PermissionLevel) []iam.AccessControlRequest {
	if len(perms) == 0 {
		return nil
	}
	out := []iam.AccessControlRequest{deployerEntry(deployer, ownerLevel)}
	for _, p := range perms {
		if p.UserName == deployer || p.ServicePrincipalName == deployer {
			continue
		}
		out = append(out, iam.AccessControlRequest{
			UserName:             p.UserName,
			GroupName:            p.GroupName,
			ServicePrincipalName: p.ServicePrincipalName,
			PermissionLevel:      iam.PermissionLevel(p.Level),
		})
	}
	sort.SliceStable(out[1:], func(i, j int) bool {
		a, b := out[1+i], out[1+j]
		return a.UserName+"\x00"+a.GroupName+"\x00"+a.ServicePrincipalName+"\x00"+string(a.PermissionLevel) <
			b.UserName+"\x00"+b.GroupName+"\x00"+b.ServicePrincipalName+"\x00"+string(b.PermissionLevel)
	})
	return out
}

// deployerEntry grants level to the deploying identity: a service
// principal (deploys from CI usually run as one, named by its application
// id) is granted as service_principal_name, which is what the permissions
// API expects for it, and a user as user_name.
func deployerEntry(deployer string, level iam.PermissionLevel) iam.AccessControlRequest {
	if bundle.NewUser(deployer).IsServicePrincipal {
		return iam.AccessControlRequest{ServicePrincipalName: deployer, PermissionLevel: level}
	}
	return iam.AccessControlRequest{UserName: deployer, PermissionLevel: level}
}

// aclState is the normalised form of an ACL recorded in state, in the
// shape of state version 2: {"object_id", "__embed__": [{"level",
// "user_name" | "group_name" | "service_principal_name"}]}.
func aclState(objectID string, l []iam.AccessControlRequest) map[string]any {
	perms := make([]any, 0, len(l))
	for _, a := range l {
		m := map[string]any{"level": string(a.PermissionLevel)}
		if a.UserName != "" {
			m["user_name"] = a.UserName
		}
		if a.GroupName != "" {
			m["group_name"] = a.GroupName
		}
		if a.ServicePrincipalName != "" {
			m["service_principal_name"] = a.ServicePrincipalName
		}
		perms = append(perms, m)
	}
	return map[string]any{"object_id": objectID, permsKey: perms}
}

// cutDir returns p relative to dir when p is inside dir.
func cutDir(p, dir string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}
