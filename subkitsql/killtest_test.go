package subkitsql_test

// childEnv, when set, makes the test binary the child of a kill -9 test.
const childEnv = "SUBKITSQL_KILL_CHILD"

func runChild() int { return 2 }
