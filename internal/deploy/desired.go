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
	"sort"
	"strings"
	"sync"

	"github.com/brickci/brickci/internal/bundle"
	"github.com/databricks/databricks-sdk-go/service/iam"
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
