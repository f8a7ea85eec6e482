// policy-workload: writes the benchmark workload to disk, or checks it.
//
//   policy-workload write DIR   writes DIR/providers.csv and DIR/policies/*.yaml
//   policy-workload check       compiles the set in-process and prints diagnostics and statistics
//   policy-workload classes     counts the object classes the compiler analyses, by bisecting
//                               PolicyCompiler.classLimit (the count is not public API; ~35 s)
//   policy-workload plan-loop [all|ordered|spread] [N]
//                               compiles, then calls plan(for:) N times (default 10M) cycling
//                               through the objects: a target for `perf record` / callgrind
//   policy-workload plan-latency [all|ordered|spread] [N]
//                               times each of N calls (default 1M) on its own (wall clock) and
//                               prints the percentiles, next to those of an empty timed call
//
// The benchmark executable generates the same bytes in memory (same code, same seed).

import PolicyEngine
import PolicyWorkload

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func fail(_ message: String) -> Never {
    print(message)
    exit(2)
}

let args = CommandLine.arguments
guard args.count >= 2 else { fail("usage: policy-workload write DIR | check | classes | plan-loop|plan-latency [all|ordered|spread] [N]") }
let workload = Workload()

switch args[1] {
case "write":
    guard args.count == 3 else { fail("usage: policy-workload write DIR") }
    let dir = args[2]
    do { try workload.write(to: dir) } catch { fail("\(error)") }
    let policies = workload.policyPath(in: dir)
    print("wrote \(dir)/\(Workload.catalogFileName) (\(workload.zoneCount) zones) and \(workload.policyFiles.count) files in \(policies) (\(workload.residencyCount) residency + \(workload.replicationCount) replication policies)")

case "check":
    let dir: String
    do { dir = try workload.writeToTemporaryDirectory() } catch { fail("\(error)") }
    let set: PolicySet
    do { set = try PolicySet.load(paths: [workload.policyPath(in: dir)]) } catch { fail("\(error)") }
    let catalog = CatalogLoader.parse(Array(workload.catalogCSV.utf8), file: workload.catalogPath(in: dir))
    workload.remove(from: dir)
    let result = PolicyCompiler().compile(set, catalog: catalog.catalog)
    let diagnostics = catalog.diagnostics + result.diagnostics
    for d in diagnostics { print(d) }
    print("zones: \(catalog.catalog.zones.count), residency: \(set.residencyPolicies.count), replication: \(set.replicationPolicies.count), diagnostics: \(diagnostics.count)")
    var allowed = 0, spread = 0, eligible = 0, replicationNames = Set<String>()
    var effective = Set<[String]>()
    for object in workload.objects {
        let plan = result.compiled.plan(for: object)
        effective.insert(plan.residencyPolicies + ["|", plan.replicationPolicy?.metadata.name ?? "-"])
        if plan.allowed { allowed += 1 }
        if plan.replicationPolicy?.placement == .spread { spread += 1 }
        eligible += plan.eligibleZones.count
        if let p = plan.replicationPolicy { replicationNames.insert(p.metadata.name) }
    }
    let n = workload.objects.count
    print("objects: \(n), allowed: \(allowed), spread: \(spread), mean eligible zones: \(eligible / n), replication policies applied: \(replicationNames.count), distinct (residency set, replication policy) pairs: \(effective.count)")
    if !diagnostics.isEmpty { exit(1) }

case "classes":
    let set = PolicySet.parse(text: workload.policyFiles.map(\.text).joined(separator: "---\n"), file: "policies.yaml")
    let catalog = CatalogLoader.parse(Array(workload.catalogCSV.utf8), file: Workload.catalogFileName)
    func truncated(_ limit: Int) -> Bool {
        PolicyCompiler(classLimit: limit).compile(set, catalog: catalog.catalog).diagnostics.contains { $0.code == "analysis-limit" }
    }
    // Truncation is reported when the count reaches the limit: find the smallest limit without it.
    var low = 1, high = 200_000
    if truncated(high) { fail("more than \(high) classes") }
    while low < high {
        let mid = (low + high) / 2
        if truncated(mid) { low = mid + 1 } else { high = mid }
    }
    print("object classes: \(low - 1)")

case "plan-loop", "plan-latency":
    let latency = args[1] == "plan-latency"
    let which = args.count > 2 ? args[2] : "all"
    let count = args.count > 3 ? Int(args[3]) ?? 10_000_000 : (latency ? 1_000_000 : 10_000_000)
    let set = PolicySet.parse(text: workload.policyFiles.map(\.text).joined(separator: "---\n"), file: "policies.yaml")
    let catalog = CatalogLoader.parse(Array(workload.catalogCSV.utf8), file: Workload.catalogFileName)
    let result = PolicyCompiler().compile(set, catalog: catalog.catalog)
    guard result.isValid else { fail("the workload does not validate; run `policy-workload check`") }
    let compiled = result.compiled
    let objects = workload.objects.filter { object in
        let spread = compiled.plan(for: object).replicationPolicy?.placement == .spread
        return which == "all" || (which == "spread") == spread
    }
    // Wall clock and this thread's CPU time: on a machine shared with other work the CPU time
    // is the figure that says what a plan costs.
    func now(_ id: clockid_t) -> Double {
        var clock = timespec()
        clock_gettime(id, &clock)
        return Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9
    }
    if latency {
        // Each call between two clock reads, as the single-call benchmarks do; the empty pair of
        // reads is the overhead included in every figure.
        func nanoseconds() -> UInt64 {
            var clock = timespec()
            clock_gettime(CLOCK_MONOTONIC, &clock)
            return UInt64(clock.tv_sec) &* 1_000_000_000 &+ UInt64(clock.tv_nsec)
        }
        var samples = [UInt64](repeating: 0, count: count)
        var empty = [UInt64](repeating: 0, count: count)
        var zones = 0
        var i = 0
        for n in 0..<count {
            let t0 = nanoseconds()
            let plan = compiled.plan(for: objects[i])
            let t1 = nanoseconds()
            zones &+= plan.zones.count
            samples[n] = t1 - t0
            let e0 = nanoseconds()
            let e1 = nanoseconds()
            empty[n] = e1 - e0
            i += 1
            if i == objects.count { i = 0 }
        }
        func percentiles(_ values: [UInt64]) -> String {
            let sorted = values.sorted()
            func at(_ p: Double) -> UInt64 { sorted[min(sorted.count - 1, Int(p * Double(sorted.count)))] }
            return "p0 \(sorted[0]) ns, p50 \(at(0.5)) ns, p90 \(at(0.9)) ns, p99 \(at(0.99)) ns, p99.9 \(at(0.999)) ns"
        }
        print("\(which): \(count) single calls over \(objects.count) objects (zones: \(zones))")
        print("\(which): plan(for:)  \(percentiles(samples))")
        print("\(which): empty call  \(percentiles(empty))")
        exit(0)
    }
    let start = now(CLOCK_MONOTONIC)
    let cpuStart = now(CLOCK_THREAD_CPUTIME_ID)
    var zones = 0
    var i = 0
    for _ in 0..<count {
        zones &+= compiled.plan(for: objects[i]).zones.count
        i += 1
        if i == objects.count { i = 0 }
    }
    let seconds = now(CLOCK_MONOTONIC) - start
    let cpu = now(CLOCK_THREAD_CPUTIME_ID) - cpuStart
    print("\(which): \(count) plans over \(objects.count) objects in \(seconds) s = \(Int(seconds * 1e9 / Double(count))) ns/plan, \(Int(Double(count) / seconds)) plans/s (zones: \(zones))")
    print("\(which): CPU time \(cpu) s = \(Int(cpu * 1e9 / Double(count))) ns/plan, \(Int(Double(count) / cpu)) plans/s per core")

default:
    fail("unknown mode \(args[1])")
}
