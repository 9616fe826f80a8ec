package gen

// Pin is a third-party action pinned by commit SHA, with the release the
// SHA belongs to.
type Pin struct {
	Repo    string
	SHA     string
	Version string
}

// Uses returns the uses: value, "owner/repo@sha".
func (p Pin) Uses() string { return p.Repo + "@" + p.SHA }

// The third-party actions generated workflows use. Update a pin by
// changing the SHA and the version together; both are checked against
// the tag on GitHub before a release.
var (
	Checkout     = Pin{Repo: "actions/checkout", SHA: "11bd71901bbe5b1630ceea73d27597364c9af683", Version: "v4.2.2"}
	SetupPython  = Pin{Repo: "actions/setup-python", SHA: "a26af69be951a213d495a4c3e4e4022e16d87065", Version: "v5.6.0"}
	UploadSARIF  = Pin{Repo: "github/codeql-action/upload-sarif", SHA: "51f77329afa6477de8c49fc9c7046c15b9a4e79d", Version: "v3.29.5"}
	SetupGo      = Pin{Repo: "actions/setup-go", SHA: "d35c59abb061a4a6fb18e82ac0862c26744d6ab5", Version: "v5.5.0"}
	PinnedAction = []Pin{Checkout, SetupPython, UploadSARIF, SetupGo}
)
