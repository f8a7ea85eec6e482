/// For `placement: spread`, which first zones make the walk of step 4 fail: the walk takes the
/// preferred zones, then the object's first rendezvous zone `f`, then the others in catalog
/// order (`ClassChecker`'s model of "an order that starts with f").
///
/// Trying every `f` with a full walk is O(eligible²) per class. The walk depends on a zone only
/// through its provider and city, and it usually stops after a few zones, so the zones are
/// grouped: with `head` the first `headLength` non-preferred zones, a zone whose provider (city)
/// is neither among the providers (cities) taken from the preferred zones nor among those of
/// `head` is interchangeable with any other such zone, as long as the walk stops inside `head`.
/// One walk per group then decides every zone of the group that lies after `head`; a group
/// whose walk does not stop inside `head`, and the zones of `head` themselves, get a walk each.
/// The result is exactly that of a walk per zone.
struct SpreadCheck {
    static let headLength = 8

    private let providerID: [Int32]
    private let cityID: [Int32]
    /// `providerSeen[p] == stamp`: provider p is among the providers taken by the current walk.
    private var providerSeen: [UInt32]
    private var citySeen: [UInt32]
    private var stamp: UInt32 = 0
    /// Group slot of a provider (city) of the head or the preferred walk; -1 = any other.
    private var providerSlot: [Int32]
    private var citySlot: [Int32]
    private var rest: [Int] = []
    private var groups: [Outcome] = []

    private enum Outcome: UInt8 {
        case unknown
        case succeeds
        case walkEach
    }

    /// The state of a walk after the preferred zones.
    private struct Start {
        var count = 0
        var providers: [Int32] = []
        var cities: [Int32] = []
    }

    init(providerID: [Int32], cityID: [Int32]) {
        self.providerID = providerID
        self.cityID = cityID
        let providers = Int(providerID.max() ?? -1) + 1
        let cities = Int(cityID.max() ?? -1) + 1
        providerSeen = [UInt32](repeating: 0, count: providers)
        citySeen = [UInt32](repeating: 0, count: cities)
        providerSlot = [Int32](repeating: -1, count: providers)
        citySlot = [Int32](repeating: -1, count: cities)
    }

    /// The non-preferred zones `f`, in catalog order, for which the walk
    /// `preferred + [f] + (rest without f)` does not place `copies` zones with the diversity.
    mutating func failingFirsts(preferred: [Int], rest restSet: ZoneSet, _ chooser: ZoneChooser) -> [Int] {
        rest.removeAll(keepingCapacity: true)
        for z in restSet { rest.append(z) }
        // The preferred zones come first in every walk: walk them once.
        var start = Start()
        beginWalk()
        var state = (count: 0, providers: 0, cities: 0)
        var filled = chooser.copies == 0
        for z in preferred where !filled {
            if offer(z, &state, chooser) {
                start.providers.append(providerID[z])
                start.cities.append(cityID[z])
            }
            filled = state.count == chooser.copies
        }
        start.count = state.count
        if filled {
            return isComplete(state, chooser) ? [] : rest
        }
        start.providers = Array(Set(start.providers))
        start.cities = Array(Set(start.cities))

        let head = min(rest.count, Self.headLength)
        var providerSlots: [Int32] = [], citySlots: [Int32] = []
        func assign(_ z: Int) {
            let p = Int(providerID[z]), c = Int(cityID[z])
            if providerSlot[p] < 0 { providerSlot[p] = Int32(providerSlots.count); providerSlots.append(Int32(p)) }
            if citySlot[c] < 0 { citySlot[c] = Int32(citySlots.count); citySlots.append(Int32(c)) }
        }
        for p in start.providers where providerSlot[Int(p)] < 0 {
            providerSlot[Int(p)] = Int32(providerSlots.count)
            providerSlots.append(p)
        }
        for c in start.cities where citySlot[Int(c)] < 0 {
            citySlot[Int(c)] = Int32(citySlots.count)
            citySlots.append(c)
        }
        for z in rest[..<head] { assign(z) }
        let cityGroups = citySlots.count + 1
        groups.removeAll(keepingCapacity: true)
        groups.append(contentsOf: repeatElement(.unknown, count: (providerSlots.count + 1) * cityGroups))

        var failing: [Int] = []
        for (position, f) in rest.enumerated() {
            if position >= head {
                let group = Int(providerSlot[Int(providerID[f])] + 1) * cityGroups + Int(citySlot[Int(cityID[f])] + 1)
                if groups[group] == .unknown {
                    groups[group] = walk(from: start, first: f, skipping: position, through: head, chooser) ? .succeeds : .walkEach
                }
                if groups[group] == .succeeds { continue }
            }
            if !walk(from: start, first: f, skipping: position, through: rest.count, chooser) { failing.append(f) }
        }
        for p in providerSlots { providerSlot[Int(p)] = -1 }
        for c in citySlots { citySlot[Int(c)] = -1 }
        return failing
    }

    /// Walks `first`, then `rest[..<limit]` except `rest[skip]`, from `start`; true when the
    /// walk places every copy with the diversity inside that range.
    private mutating func walk(from start: Start, first: Int, skipping skip: Int, through limit: Int, _ chooser: ZoneChooser) -> Bool {
        beginWalk()
        for p in start.providers { providerSeen[Int(p)] = stamp }
        for c in start.cities { citySeen[Int(c)] = stamp }
        var state = (count: start.count, providers: start.providers.count, cities: start.cities.count)
        _ = offer(first, &state, chooser)
        var i = 0
        while state.count < chooser.copies, i < limit {
            if i != skip { _ = offer(rest[i], &state, chooser) }
            i += 1
        }
        return isComplete(state, chooser)
    }

    private func isComplete(_ state: (count: Int, providers: Int, cities: Int), _ chooser: ZoneChooser) -> Bool {
        state.count == chooser.copies && state.providers >= chooser.minProviders && state.cities >= chooser.minCities
    }

    private mutating func beginWalk() {
        if stamp == .max {
            for i in providerSeen.indices { providerSeen[i] = 0 }
            for i in citySeen.indices { citySeen[i] = 0 }
            stamp = 0
        }
        stamp += 1
    }

    /// `ZoneChooser.choose`'s rule for one candidate; true when the zone is taken.
    @inline(__always)
    private mutating func offer(_ z: Int, _ state: inout (count: Int, providers: Int, cities: Int), _ chooser: ZoneChooser) -> Bool {
        guard state.count < chooser.copies else { return false }
        let p = Int(providerID[z]), c = Int(cityID[z])
        let newProvider = providerSeen[p] != stamp
        let newCity = citySeen[c] != stamp
        let remaining = chooser.copies - state.count - 1
        if chooser.minProviders - (state.providers + (newProvider ? 1 : 0)) > remaining
            || chooser.minCities - (state.cities + (newCity ? 1 : 0)) > remaining { return false }
        state.count += 1
        if newProvider { providerSeen[p] = stamp; state.providers += 1 }
        if newCity { citySeen[c] = stamp; state.cities += 1 }
        return true
    }
}
