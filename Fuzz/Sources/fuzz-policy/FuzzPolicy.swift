import Foundation
import PolicyEngine

/// The project's catalog, read once: policies that parse cleanly are also compiled against it,
/// so the fuzzer reaches the compiler and the plan path, not only the syntax checks.
let catalog: Catalog? = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    let path = ProcessInfo.processInfo.environment["FUZZ_CATALOG"] ?? url.path + "/providers_flat.csv"
    return try? CatalogLoader.load(path: path).catalog
}()

/// One input is one policy file. The loader must never trap, whatever the bytes; a file it
/// accepts goes through the policy parser, and a set without errors is compiled (with a small
/// class limit, so one input stays fast) and asked for a plan.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let loaded = YAMLLoader().load(bytes, file: "fuzz.yaml")
    if loaded.diagnostics.hasErrors {
        // Every diagnostic must render (locations, messages).
        for diagnostic in loaded.diagnostics { _ = "\(diagnostic)" }
        return 0
    }
    // The loader accepted the bytes, so they are UTF-8 and decode unchanged.
    let set = PolicySet.parse(text: String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
    for diagnostic in set.diagnostics { _ = "\(diagnostic)" }
    guard !set.diagnostics.hasErrors, let catalog else { return 0 }
    let result = PolicyCompiler(classLimit: 2_000).compile(set, catalog: catalog)
    guard result.isValid else { return 0 }
    for policy in set.residencyPolicies {
        _ = result.compiled.plan(for: ObjectRef(bucket: "fuzz", key: "personal/\(policy.metadata.name)", tags: [:]))
    }
    _ = result.compiled.plan(for: ObjectRef(bucket: "hr-data", key: "a", tags: ["classification": "personal"]))
    return 0
}

/// SwiftPM links a debug executable with `main` aliased to `fuzz_policy_main`, the function that
/// would hold a script's top-level code; built with `-parse-as-library` this target has none, so
/// this is that function, and it runs libFuzzer's driver. (Where no alias is made, libFuzzer's own
/// `main` is linked instead and this is unused.)
@_cdecl("fuzz_policy_main")
public func fuzzerEntryPoint(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        guard let data else { return 0 }
        return fuzzPolicy(data, size)
    }
}

/// libFuzzer's entry for programs that have their own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32
