// The go-job of tests/infra/platforms/envbase.yaml: packaging builds it into bootstrap; never run.
package main

func main() {}
