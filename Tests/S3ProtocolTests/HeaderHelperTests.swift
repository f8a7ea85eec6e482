import S3Protocol
import Testing

@Suite struct URLEncodingTests {
    @Test func encodesLikeS3() {
        #expect(S3URLEncoding.encode("a b+c/d~e_f.g-h") == "a%20b%2Bc%2Fd~e_f.g-h")
        #expect(S3URLEncoding.encode("a/b", preserveSlash: true) == "a/b")
        #expect(S3URLEncoding.encodeListingValue("quux ab/") == "quux%20ab/")
        #expect(S3URLEncoding.encodeListingValue("foo+1/") == "foo%2B1/")
        #expect(S3URLEncoding.encodeListingValue("한글/x.txt") == "%ED%95%9C%EA%B8%80/x.txt")
        #expect(S3URLEncoding.encodeListingValue("100%.csv") == "100%25.csv")
    }

    @Test func decodes() {
        #expect(S3URLEncoding.decode("a%20b+c") == "a b+c")
        #expect(S3URLEncoding.decode("a%20b+c", plusAsSpace: true) == "a b c")
        #expect(S3URLEncoding.decode("%e6%97%a5") == "日")
        #expect(S3URLEncoding.decode("%") == nil)
        #expect(S3URLEncoding.decode("%4") == nil)
        #expect(S3URLEncoding.decode("%zz") == nil)
        #expect(S3URLEncoding.decode("%FF") == nil)
        #expect(S3URLEncoding.decodeBytes("%FF") == [0xFF])
    }

    @Test func roundTrips() {
        var generator = SplitMix64(seed: 3)
        for _ in 0..<500 {
            var text = ""
            for _ in 0..<Int.random(in: 0...12, using: &generator) {
                if let scalar = Unicode.Scalar(UInt32.random(in: 0...0x10FFF, using: &generator)) {
                    text.unicodeScalars.append(scalar)
                }
            }
            #expect(S3URLEncoding.decode(S3URLEncoding.encode(text)) == text)
            #expect(S3URLEncoding.decode(S3URLEncoding.encodeListingValue(text), plusAsSpace: true) == text)
        }
    }
}

@Suite struct QueryParametersTests {
    @Test func parsesValuelessAndEncodedParameters() throws {
        let query = try QueryParameters(parsing: "uploads&prefix=a%20b+c&max-keys=10&versioning=&&x=1&x=2")
        #expect(query.parameters.map(\.name) == ["uploads", "prefix", "max-keys", "versioning", "x", "x"])
        #expect(query.parameters[0].value == nil)
        #expect(query["uploads"] == "")
        #expect(query.contains("uploads"))
        #expect(query["prefix"] == "a b c")
        #expect(query["versioning"] == "")
        #expect(query["missing"] == nil)
        #expect(query.values("x") == ["1", "2"])
        #expect(try QueryParameters(parsing: "").parameters.isEmpty)
        #expect(try QueryParameters(parsing: "a=b=c")["a"] == "b=c")
    }

    @Test func rejectsMalformedEscapes() {
        #expect(throws: S3Error(.invalidURI)) { _ = try QueryParameters(parsing: "prefix=%zz") }
        #expect(throws: S3Error(.invalidURI)) { _ = try QueryParameters(parsing: "%FF=1") }
    }
}

@Suite struct TaggingHeaderTests {
    @Test func parsesHeader() throws {
        let tagging = try Tagging(headerValue: "project=blue%20sky&env=prod+eu&empty=&flag")
        #expect(tagging.tags == [
            .init(key: "project", value: "blue sky"), .init(key: "env", value: "prod eu"),
            .init(key: "empty", value: ""), .init(key: "flag", value: ""),
        ])
        #expect(tagging.count == 4)
        #expect(try Tagging(headerValue: "").tags.isEmpty)
    }

    @Test func rejectsBadHeaders() {
        #expect(throws: S3Error.self) { _ = try Tagging(headerValue: "a=1&a=2") }
        do {
            _ = try Tagging(headerValue: "a=1&a=2")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error[detail: "ArgumentName"] == "x-amz-tagging")
        }
        do {
            _ = try Tagging(headerValue: "a=%zz")
        } catch {
            #expect(error.code == .invalidArgument)
        }
        do {
            _ = try Tagging(headerValue: (0..<11).map { "k\($0)=v" }.joined(separator: "&"))
        } catch {
            #expect(error.code == .badRequest)
        }
        do {
            _ = try Tagging(headerValue: "=v")
        } catch {
            #expect(error.code == .invalidTag)
        }
    }

    @Test func rendersQueryStrings() throws {
        let tagging = Tagging([.init(key: "b key", value: "x/y"), .init(key: "a", value: "1+2")])
        #expect(tagging.queryString == "b%20key=x%2Fy&a=1%2B2")
        #expect(tagging.canonicalQueryString == "a=1%2B2&b%20key=x%2Fy")
        #expect(try Tagging(headerValue: tagging.queryString) == tagging)
    }
}

@Suite struct ContentMD5Tests {
    @Test func parsesValidDigest() throws {
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e
        let digest = try ContentMD5.parse("1B2M2Y8AsgTpgAmY7PhCfg==")
        #expect(ContentMD5.hex(digest) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(ContentMD5.headerValue(for: digest) == "1B2M2Y8AsgTpgAmY7PhCfg==")
    }

    @Test(arguments: [
        "", "1B2M2Y8AsgTpgAmY7PhCfg", "1B2M2Y8AsgTpgAmY7PhCfg=", "1B2M2Y8AsgTpgAmY7PhCfh==", "AAAA",
        "!B2M2Y8AsgTpgAmY7PhCfg==", "d41d8cd98f00b204e9800998ecf8427e", "1B2M2Y8AsgTpgAmY7PhCfg==AAAA",
        "1B2M=Y8AsgTpgAmY7PhCfg==",
    ])
    func rejectsInvalidDigests(value: String) {
        #expect(throws: S3Error.self) { _ = try ContentMD5.parse(value) }
        do {
            _ = try ContentMD5.parse(value)
        } catch {
            #expect(error.code == .invalidDigest)
        }
    }

    @Test func base64RoundTrips() throws {
        var generator = SplitMix64(seed: 4)
        for _ in 0..<200 {
            let digest = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(try ContentMD5.parse(ContentMD5.headerValue(for: digest)) == digest)
        }
    }
}

@Suite struct CopySourceTests {
    @Test(arguments: [
        ("/bucket/key", CopySource(bucket: "bucket", key: "key")),
        ("bucket/dir/key.txt", CopySource(bucket: "bucket", key: "dir/key.txt")),
        ("/bucket/a%20b%2Bc%3Fd+e", CopySource(bucket: "bucket", key: "a b+c?d+e")),
        ("bucket%2Fkey", CopySource(bucket: "bucket", key: "key")),
        ("/bucket/key?versionId=v%2B1", CopySource(bucket: "bucket", key: "key", versionId: "v+1")),
        ("/bucket/%E6%97%A5/x", CopySource(bucket: "bucket", key: "日/x")),
        ("/bucket/key/", CopySource(bucket: "bucket", key: "key/")),
    ])
    func parses(header: String, expected: CopySource) throws {
        #expect(try CopySource(headerValue: header) == expected)
    }

    @Test(arguments: ["", "/", "bucket", "/bucket/", "//key", "/bucket/%zz", "/bucket/%FF", "/bucket/key?versionId="])
    func rejects(header: String) {
        #expect(throws: S3Error.self) { _ = try CopySource(headerValue: header) }
    }
}

@Suite struct MiscHeaderTests {
    @Test func directives() throws {
        #expect(try CopyDirective.metadataDirective(nil) == .copy)
        #expect(try CopyDirective.metadataDirective("REPLACE") == .replace)
        #expect(try CopyDirective.taggingDirective("COPY") == .copy)
        #expect(throws: S3Error.self) { _ = try CopyDirective.metadataDirective("MERGE") }
        do {
            _ = try CopyDirective.taggingDirective("replace")
        } catch {
            #expect(error[detail: "ArgumentName"] == "x-amz-tagging-directive")
        }
    }

    @Test func userMetadata() throws {
        let metadata = try UserMetadata.collect(from: [
            ("X-Amz-Meta-Color", "blue"), ("x-amz-meta-color", "red"), ("Content-Type", "text/plain"),
            ("x-amz-meta-", "ignored"), ("x-amz-meta-name", "日本"),
        ])
        #expect(metadata == ["color": "blue,red", "name": "日本"])
        #expect(UserMetadata.size(of: metadata) == 5 + 8 + 4 + 6)
        let atLimit = [("x-amz-meta-k", String(repeating: "v", count: 2047))]
        #expect(try UserMetadata.collect(from: atLimit).count == 1)
        let overLimit = [("x-amz-meta-k", String(repeating: "v", count: 2048))]
        #expect(throws: S3Error.metadataTooLarge(size: 2049, maxSizeAllowed: 2048)) {
            _ = try UserMetadata.collect(from: overLimit)
        }
    }

    @Test func storageClasses() throws {
        #expect(try StorageClass.parse(headerValue: nil) == .standard)
        #expect(try StorageClass.parse(headerValue: "STANDARD_IA") == .standardIA)
        #expect(try StorageClass.parse(headerValue: "GLACIER_IR") == .glacierIR)
        #expect(throws: S3Error.invalidStorageClass("standard")) { _ = try StorageClass.parse(headerValue: "standard") }
        #expect(throws: S3Error.invalidStorageClass("FAST")) { _ = try StorageClass.parse(headerValue: "FAST") }
    }

    @Test func retentionModeHeader() {
        #expect(ObjectLockRetentionMode(headerValue: "GOVERNANCE") == .governance)
        #expect(ObjectLockRetentionMode(headerValue: "governance") == nil)
    }
}
