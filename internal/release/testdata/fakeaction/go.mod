module example.com/fakeaction

go 1.22
