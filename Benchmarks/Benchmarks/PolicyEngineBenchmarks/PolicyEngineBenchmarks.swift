// Benchmarks of the policy engine's hot path (`CompiledPolicySet.plan(for:)`) and of compiling
// the policy set, on the deterministic workload of `PolicyWorkload`: 1,000 zones, 100 residency
// + 100 replication policies, 10,000 objects. See ../../../BENCHMARKS.md for commands and figures.

import Benchmark
import PolicyEngine
import PolicyWorkload

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Inputs shared by all benchmarks of one process, built once (outside any measurement).
final class Fixture: Sendable {
    let workload: Workload
    /// Where the workload was written (and removed again once read back): the policy sources are
    /// read back from disk once because `PolicySet.SourceFile` has no public initialiser; their
    /// paths are those `policyctl validate` would report.
    let directory: String
    let sources: [PolicySet.SourceFile]
    let catalogBytes: [UInt8]
    let catalogFile: String

    init() {
        workload = Workload()
        do {
            directory = try workload.writeToTemporaryDirectory()
            sources = try PolicySet.load(paths: [workload.policyPath(in: directory)]).files
            workload.remove(from: directory)
        } catch {
            fatalError("cannot write or read the workload: \(error)")
        }
        catalogFile = workload.catalogPath(in: directory)
        catalogBytes = Array(workload.catalogCSV.utf8)
    }

    /// Parse + catalog + compile, exactly what the compile benchmark measures.
    func compile() -> PolicyCompiler.Result {
        let set = PolicySet.parse(sources)
        let catalog = CatalogLoader.parse(catalogBytes, file: catalogFile)
        return PolicyCompiler().compile(set, catalog: catalog.catalog)
    }

    static let shared = Fixture()
}

/// The compiled set and the objects to plan, split by the placement of the applying policy.
final class PlanFixture: Sendable {
    let compiled: CompiledPolicySet
    let all: [ObjectRef]
    let ordered: [ObjectRef]
    let spread: [ObjectRef]

    init(_ fixture: Fixture) {
        let result = fixture.compile()
        let catalogDiagnostics = CatalogLoader.parse(fixture.catalogBytes, file: fixture.catalogFile).diagnostics
        let diagnostics = catalogDiagnostics + result.diagnostics
        if !diagnostics.isEmpty {
            for d in diagnostics { print(d) }
            fatalError("the generated workload does not validate cleanly (\(diagnostics.count) diagnostics)")
        }
        compiled = result.compiled
        all = fixture.workload.objects
        var ordered: [ObjectRef] = []
        var spread: [ObjectRef] = []
        for object in all {
            let plan = compiled.plan(for: object)
            precondition(plan.allowed, "generated object refused: \(object): \(plan.reasons)")
            if plan.replicationPolicy?.placement == .spread { spread.append(object) } else { ordered.append(object) }
        }
        self.ordered = ordered
        self.spread = spread
        print("plan fixture: \(all.count) objects, \(ordered.count) ordered, \(spread.count) spread")
    }

    static let shared = PlanFixture(Fixture.shared)
}

/// Position in the object array, carried from one benchmark iteration to the next so that the
/// whole array is cycled through. Single-threaded use only.
final class Cursor: @unchecked Sendable {
    var position = 0
}

let benchmarks: @Sendable () -> Void = {
    // Moderate run lengths: the benchmark machine has 2 cores shared with other builds.
    let planMetrics: [BenchmarkMetric] = [.throughput, .wallClock, .mallocCountTotal]
    let planConfiguration = Benchmark.Configuration(
        metrics: planMetrics, timeUnits: .nanoseconds, warmupIterations: 10,
        scalingFactor: .kilo, maxDuration: .seconds(5), maxIterations: 1_000_000)

    /// `scalingFactor` (1,000) plans per iteration, cycling through `objects`.
    func planBenchmark(_ name: String, _ objects: @escaping @Sendable () -> [ObjectRef]) {
        let cursor = Cursor()
        Benchmark(name, configuration: planConfiguration) { benchmark in
            let compiled = PlanFixture.shared.compiled
            let list = objects()
            var i = cursor.position
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(compiled.plan(for: list[i]))
                i += 1
                if i == list.count { i = 0 }
            }
            benchmark.stopMeasurement()
            cursor.position = i
        } setup: {
            _ = PlanFixture.shared
        }
    }

    planBenchmark("plan (mixed: 10k objects)") { PlanFixture.shared.all }
    planBenchmark("plan (ordered placement only)") { PlanFixture.shared.ordered }
    planBenchmark("plan (spread placement only)") { PlanFixture.shared.spread }

    // One plan per iteration: the latency distribution of single calls (p50/p99), which
    // includes the harness's per-iteration overhead: compare "harness overhead (empty)".
    let singleConfiguration = Benchmark.Configuration(
        metrics: [.wallClock], timeUnits: .nanoseconds, warmupIterations: 1_000,
        scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 2_000_000)
    func singlePlanBenchmark(_ name: String, _ objects: @escaping @Sendable () -> [ObjectRef]) {
        let cursor = Cursor()
        Benchmark(name, configuration: singleConfiguration) { benchmark in
            let compiled = PlanFixture.shared.compiled
            let list = objects()
            let i = cursor.position
            benchmark.startMeasurement()
            blackHole(compiled.plan(for: list[i]))
            benchmark.stopMeasurement()
            cursor.position = i + 1 == list.count ? 0 : i + 1
        } setup: {
            _ = PlanFixture.shared
        }
    }
    singlePlanBenchmark("plan latency (single call, mixed)") { PlanFixture.shared.all }
    singlePlanBenchmark("plan latency (single call, ordered only)") { PlanFixture.shared.ordered }
    let emptyCursor = Cursor()
    Benchmark("harness overhead (empty)", configuration: singleConfiguration) { benchmark in
        let fixture = PlanFixture.shared
        let i = emptyCursor.position
        benchmark.startMeasurement()
        blackHole(fixture.all[i])
        benchmark.stopMeasurement()
        emptyCursor.position = i + 1 == fixture.all.count ? 0 : i + 1
    } setup: {
        _ = PlanFixture.shared
    }

    // Compiling: PolicySet.parse + CatalogLoader.parse + PolicyCompiler.compile, in-process,
    // and the first two on their own to show where the time goes.
    let compileConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident], timeUnits: .milliseconds,
        warmupIterations: 1, scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 20)
    Benchmark("compile (parse + catalog + compile, 200 policies x 1000 zones)", configuration: compileConfiguration) { benchmark in
        let fixture = Fixture.shared
        benchmark.startMeasurement()
        let result = fixture.compile()
        benchmark.stopMeasurement()
        precondition(result.isValid)
        blackHole(result)
    } setup: {
        _ = Fixture.shared
    }
    let parseConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal], timeUnits: .milliseconds,
        warmupIterations: 3, scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 1_000)
    Benchmark("parse policies (PolicySet.parse, 10 files, 200 documents)", configuration: parseConfiguration) { benchmark in
        let fixture = Fixture.shared
        benchmark.startMeasurement()
        let set = PolicySet.parse(fixture.sources)
        benchmark.stopMeasurement()
        precondition(set.diagnostics.isEmpty)
        blackHole(set)
    } setup: {
        _ = Fixture.shared
    }
    Benchmark("parse catalog (CatalogLoader.parse, 1000 zones)", configuration: parseConfiguration) { benchmark in
        let fixture = Fixture.shared
        benchmark.startMeasurement()
        let catalog = CatalogLoader.parse(fixture.catalogBytes, file: fixture.catalogFile)
        benchmark.stopMeasurement()
        precondition(catalog.diagnostics.isEmpty)
        blackHole(catalog)
    } setup: {
        _ = Fixture.shared
    }
}
