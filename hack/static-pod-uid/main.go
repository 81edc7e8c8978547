// Prints the UID the upstream kubelet at the pin gives a static pod manifest
// (pkg/kubelet/config/common.go applyDefaults: FNV-128a over hash.DeepHashObject of the decoded
// internal Pod, then "host:<node>" "file:<path>"), and with -dump the spew text it hashes.
// Usage: static-pod-uid [-dump] NODE FILE...
package main

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	api "k8s.io/kubernetes/pkg/apis/core"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	"k8s.io/utils/dump"
)

func main() {
	args := os.Args[1:]
	showDump := false
	if len(args) > 0 && args[0] == "-dump" {
		showDump, args = true, args[1:]
	}
	node := args[0]
	for _, file := range args[1:] {
		data, err := os.ReadFile(file)
		if err != nil {
			panic(err)
		}
		json, err := utilyaml.ToJSON(data)
		if err != nil {
			panic(err)
		}
		obj, err := runtime.Decode(legacyscheme.Codecs.UniversalDecoder(), json)
		if err != nil {
			panic(err)
		}
		pod := obj.(*api.Pod)
		hasher := fnv.New128a()
		text := dump.ForHash(pod)
		fmt.Fprintf(hasher, "%v", text)
		fmt.Fprintf(hasher, "host:%s", node)
		fmt.Fprintf(hasher, "file:%s", file)
		if showDump {
			fmt.Println(text)
		}
		fmt.Printf("%s %s\n", file, hex.EncodeToString(hasher.Sum(nil)))
	}
}
