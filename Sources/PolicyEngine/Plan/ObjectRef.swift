/// What a placement decision is about: an object's bucket, key and tags (`x-amz-tagging`).
public struct ObjectRef: Sendable, Hashable, CustomStringConvertible {
    public struct Tag: Sendable, Hashable {
        public var key: String
        public var value: String

        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    public var bucket: String
    public var key: String
    public var tags: [Tag]

    public init(bucket: String, key: String, tags: [Tag] = []) {
        self.bucket = bucket
        self.key = key
        self.tags = tags
    }

    public init(bucket: String, key: String, tags: [String: String]) {
        self.init(bucket: bucket, key: key, tags: tags.sorted { $0.key < $1.key }.map { Tag(key: $0.key, value: $0.value) })
    }

    public func tag(_ key: String) -> String? { tags.first { $0.key == key }?.value }

    /// `s3://bucket/key`, then ` [k=v, …]` when there are tags.
    public var description: String {
        var s = "s3://"
        s.reserveCapacity(8 + bucket.utf8.count + key.utf8.count + tags.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 3 })
        s += bucket
        s += "/"
        s += key
        if !tags.isEmpty {
            s += " ["
            for (i, tag) in tags.enumerated() {
                if i > 0 { s += ", " }
                s += tag.key
                s += "="
                s += tag.value
            }
            s += "]"
        }
        return s
    }
}

extension String {
    /// Byte-wise prefix test (no Unicode normalisation: keys are bytes to S3).
    func hasPrefixBytes(_ prefix: String) -> Bool {
        utf8.starts(with: prefix.utf8)
    }
}
