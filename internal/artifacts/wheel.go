package artifacts

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DynamicVersion rewrites the wheel at path so that its version carries a
// local version label derived from its content, <version>+<12 hex digits>
// (or <version>.<digits> when it already has a label), and returns the new
// file, which replaces the old one in the same directory. Rebuilding
// unchanged sources gives the same name; any change gives a new one, so a
// cluster never keeps an older wheel of the same version. The Databricks
// CLI's dynamic_version appends a timestamp instead, which renames the
// wheel at every build.
func DynamicVersion(path string) (string, error) {
	base := filepath.Base(path)
	parts := strings.Split(strings.TrimSuffix(base, ".whl"), "-")
	if !strings.HasSuffix(base, ".whl") || len(parts) < 5 || len(parts) > 6 {
		return "", fmt.Errorf("failed to read the version of %q: not a wheel file name (name-version-python-abi-platform.whl)", base)
	}
	name, version := parts[0], parts[1]
	h, err := Hash(path)
	if err != nil {
		return "", err
	}
	label := strings.TrimPrefix(h, "zip:")[:12]
	newVersion := version + "+" + label
	if strings.Contains(version, "+") {
		newVersion = version + "." + label
	}
	parts[1] = newVersion
	out := filepath.Join(filepath.Dir(path), strings.Join(parts, "-")+".whl")
	data, err := patchWheel(path, name, version, newVersion)
	if err != nil {
		return "", fmt.Errorf("failed to set the dynamic version of %q: %w", base, err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return "", fmt.Errorf("failed to write %q: %w", out, err)
	}
	if err := os.Remove(path); err != nil {
		return "", fmt.Errorf("failed to remove %q: %w", path, err)
	}
	return out, nil
}

// patchWheel returns the wheel with its .dist-info and .data folders
// renamed for newVersion, METADATA's Version line replaced and RECORD
// written again for the new contents.
func patchWheel(path, name, version, newVersion string) ([]byte, error) {
	r, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	oldInfo, newInfo := name+"-"+version+".dist-info/", name+"-"+newVersion+".dist-info/"
	oldData, newData := name+"-"+version+".data/", name+"-"+newVersion+".data/"
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	var record strings.Builder
	var recordHeader *zip.FileHeader
	found := false
	for _, f := range r.File {
		rename := f.Name
		switch {
		case strings.HasPrefix(f.Name, oldInfo):
			rename, found = newInfo+strings.TrimPrefix(f.Name, oldInfo), true
		case strings.HasPrefix(f.Name, oldData):
			rename = newData + strings.TrimPrefix(f.Name, oldData)
		}
		if rename == newInfo+"RECORD" {
			h := f.FileHeader
			recordHeader = &h
			continue
		}
		content, err := readEntry(f)
		if err != nil {
			return nil, err
		}
		if rename == newInfo+"METADATA" {
			content, err = setVersion(content, version, newVersion)
			if err != nil {
				return nil, err
			}
		}
		h := f.FileHeader
		h.Name = rename
		w, err := zw.CreateHeader(&h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(content); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(content)
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", rename, base64.RawURLEncoding.EncodeToString(sum[:]), len(content))
	}
	if !found {
		return nil, fmt.Errorf("it has no %s folder", strings.TrimSuffix(oldInfo, "/"))
	}
	fmt.Fprintf(&record, "%sRECORD,,\n", newInfo)
	h := zip.FileHeader{Name: newInfo + "RECORD", Method: zip.Deflate}
	if recordHeader != nil {
		h = *recordHeader
		h.Name = newInfo + "RECORD"
	}
	w, err := zw.CreateHeader(&h)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, record.String()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func readEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// setVersion replaces the Version header of a METADATA file.
func setVersion(metadata []byte, version, newVersion string) ([]byte, error) {
	lines := strings.SplitAfter(string(metadata), "\n")
	for i, l := range lines {
		if strings.TrimRight(l, "\r\n") == "" {
			break // the headers end at the first empty line
		}
		if strings.TrimRight(l, "\r\n") == "Version: "+version {
			lines[i] = strings.Replace(l, version, newVersion, 1)
			return []byte(strings.Join(lines, "")), nil
		}
	}
	return nil, fmt.Errorf("its METADATA has no line %q", "Version: "+version)
}
