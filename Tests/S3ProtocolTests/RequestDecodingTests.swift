#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import S3Protocol
import Testing

@Suite struct RequestDecodingTests {
    func code(_ body: () throws(S3Error) -> Void) -> S3ErrorCode? {
        do {
            try body()
            return nil
        } catch {
            return error.code
        }
    }

    // MARK: CompleteMultipartUpload

    @Test func completeMultipartUploadAsBoto3SendsIt() throws {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32><PartNumber>1</PartNumber></Part><Part><ETag>"8888"</ETag><PartNumber>3</PartNumber></Part></CompleteMultipartUpload>
            """
        let request = try CompleteMultipartUploadRequest.decode(body)
        #expect(request.parts.map(\.partNumber) == [1, 3])
        #expect(request.parts[0].eTag == "\"7778aef83f66abc1fa1e8477f296d394\"")
        #expect(request.parts[0].unquotedETag == "7778aef83f66abc1fa1e8477f296d394")
        #expect(request.parts[0].checksums.crc32 == "AAAAAA==")
        #expect(request.parts[1].checksums.isEmpty)
    }

    @Test func completeMultipartUploadWithWhitespaceAndNoNamespace() throws {
        let body = """
            <CompleteMultipartUpload>
              <Part>
                <PartNumber> 1 </PartNumber>
                <ETag>
                  &quot;abc&quot;
                </ETag>
              </Part>
            </CompleteMultipartUpload>
            """
        let request = try CompleteMultipartUploadRequest.decode(body)
        #expect(request.parts == [.init(partNumber: 1, eTag: "\"abc\"")])
    }

    @Test func completeMultipartUploadErrors() {
        func decode(_ parts: String) -> S3ErrorCode? {
            code { () throws(S3Error) in _ = try CompleteMultipartUploadRequest.decode("<CompleteMultipartUpload>\(parts)</CompleteMultipartUpload>") }
        }
        let p = { (n: String) in "<Part><PartNumber>\(n)</PartNumber><ETag>\"e\"</ETag></Part>" }
        #expect(decode(p("2") + p("1")) == .invalidPartOrder)
        #expect(decode(p("1") + p("1")) == .invalidPartOrder)
        #expect(decode(p("0")) == .invalidArgument)
        #expect(decode(p("10001")) == .invalidArgument)
        #expect(decode(p("10000")) == nil)
        #expect(decode(p("x")) == .malformedXML)
        #expect(decode("") == .malformedXML)
        #expect(decode("<Part><PartNumber>1</PartNumber></Part>") == .malformedXML)
        #expect(decode("<Part><PartNumber>1</PartNumber><PartNumber>2</PartNumber><ETag>e</ETag></Part>") == .malformedXML)
        #expect(code { () throws(S3Error) in _ = try CompleteMultipartUploadRequest.decode("<Other/>") } == .malformedXML)
        #expect(code { () throws(S3Error) in _ = try CompleteMultipartUploadRequest.decode("<a>") } == .malformedXML)
        // S3 answers an empty CompleteMultipartUpload body with MalformedXML; other documents
        // keep MissingRequestBodyError.
        #expect(code { () throws(S3Error) in _ = try CompleteMultipartUploadRequest.decode("") } == .malformedXML)
        #expect(code { () throws(S3Error) in _ = try CompleteMultipartUploadRequest.decode(" \n") } == .malformedXML)
        #expect(code { () throws(S3Error) in _ = try Tagging.decode("") } == .missingRequestBodyError)
    }

    @Test func completeMultipartUploadWithTenThousandPartsFitsLimits() throws {
        let part = { (n: Int) in
            "<Part><ETag>\"0123456789abcdef0123456789abcdef\"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32><ChecksumSHA256>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=</ChecksumSHA256><PartNumber>\(n)</PartNumber></Part>"
        }
        let body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            + (1...10_000).map(part).joined() + "</CompleteMultipartUpload>"
        #expect(body.utf8.count > 1 << 20)
        let request = try CompleteMultipartUploadRequest.decode(ByteBuffer(string: body))
        #expect(request.parts.count == 10_000)
    }

    // MARK: Delete

    @Test func deleteObjectsAsAWSCLISendsIt() throws {
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a b.txt</Key></Object><Object><Key> spaced </Key><VersionId>v1</VersionId></Object><Quiet>true</Quiet></Delete>
            """
        let request = try DeleteObjectsRequest.decode(body)
        #expect(request.quiet)
        #expect(request.objects == [.init(key: "a b.txt"), .init(key: " spaced ", versionId: "v1")])
    }

    @Test func deleteObjectsConditionalFields() throws {
        let request = try DeleteObjectsRequest.decode(
            "<Delete><Object><Key>k</Key><ETag>\"e\"</ETag><LastModifiedTime>2024-01-02T03:04:05Z</LastModifiedTime><Size>7</Size></Object></Delete>"
        )
        #expect(request.objects[0].eTag == "\"e\"")
        #expect(request.objects[0].lastModifiedTime == sampleDate)
        #expect(request.objects[0].size == 7)
        #expect(!request.quiet)
    }

    @Test func deleteObjectsLimits() {
        let objects = { (n: Int) in String(repeating: "<Object><Key>k</Key></Object>", count: n) }
        let decode = { (inner: String) in
            self.code { () throws(S3Error) in _ = try DeleteObjectsRequest.decode("<Delete>\(inner)</Delete>") }
        }
        #expect(decode(objects(1000)) == nil)
        #expect(decode(objects(1001)) == .malformedXML)
        #expect(decode("") == .malformedXML)
        #expect(decode("<Object><VersionId>v</VersionId></Object>") == .malformedXML)
        #expect(decode("<Quiet>yes</Quiet>" + objects(1)) == .malformedXML)
        #expect(decode("<Quiet>TRUE</Quiet>" + objects(1)) == nil)
        #expect(decode("<Object><Key><b/></Key></Object>") == .malformedXML)
    }

    // MARK: Tagging

    @Test func taggingDecodes() throws {
        let body = """
            <Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <TagSet>
                <Tag><Key>project</Key><Value>blue sky</Value></Tag>
                <Tag><Key>empty</Key><Value></Value></Tag>
              </TagSet>
            </Tagging>
            """
        let tagging = try Tagging.decode(Array(body.utf8), maxTags: Tagging.maxObjectTags)
        #expect(tagging.tags == [.init(key: "project", value: "blue sky"), .init(key: "empty", value: "")])
    }

    @Test func taggingValidation() {
        let tags = { (pairs: [(String, String)]) in Tagging(pairs.map { Tagging.Tag(key: $0.0, value: $0.1) }) }
        let validate = { (tagging: Tagging, max: Int) in
            self.code { () throws(S3Error) in try tagging.validate(maxTags: max) }
        }
        let eleven = tags((0..<11).map { ("k\($0)", "v") })
        #expect(validate(eleven, 10) == .badRequest)
        #expect(validate(tags((0..<51).map { ("k\($0)", "v") }), 50) == .invalidTag)
        #expect(validate(eleven, 50) == nil)
        #expect(validate(tags([("a", "1"), ("a", "2")]), 10) == .invalidTag)
        #expect(validate(tags([("", "v")]), 10) == .invalidTag)
        #expect(validate(tags([(String(repeating: "k", count: 128), "v")]), 10) == nil)
        #expect(validate(tags([(String(repeating: "k", count: 129), "v")]), 10) == .invalidTag)
        #expect(validate(tags([("k", String(repeating: "v", count: 256))]), 10) == nil)
        #expect(validate(tags([("k", String(repeating: "v", count: 257))]), 10) == .invalidTag)
        #expect(validate(tags([("aws:x", "v")]), 10) == .invalidTag)
        #expect(validate(tags([("k", "a<b")]), 10) == .invalidTag)
        #expect(validate(tags([("ключ é_.:/=+-@ 1", "値")]), 10) == nil)
        #expect(code { () throws(S3Error) in _ = try Tagging.decode("<Tagging></Tagging>") } == .malformedXML)
        #expect(code { () throws(S3Error) in _ = try Tagging.decode("<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>") } == .malformedXML)
    }

    // MARK: Configurations

    @Test func versioningConfiguration() throws {
        let enabled = try VersioningConfiguration.decode(
            "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status></VersioningConfiguration>"
        )
        #expect(enabled == VersioningConfiguration(status: .enabled))
        let both = try VersioningConfiguration.decode(
            "<VersioningConfiguration><Status>Suspended</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>"
        )
        #expect(both == VersioningConfiguration(status: .suspended, mfaDelete: .disabled))
        #expect(try VersioningConfiguration.decode("<VersioningConfiguration/>") == VersioningConfiguration())
        #expect(code { () throws(S3Error) in
            _ = try VersioningConfiguration.decode("<VersioningConfiguration><Status>On</Status></VersioningConfiguration>")
        } == .malformedXML)
    }

    @Test func objectLockConfiguration() throws {
        let config = try ObjectLockConfiguration.decode("""
            <ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <ObjectLockEnabled>Enabled</ObjectLockEnabled>
              <Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>7</Days></DefaultRetention></Rule>
            </ObjectLockConfiguration>
            """)
        #expect(config == ObjectLockConfiguration(defaultRetention: .init(mode: .governance, period: .days(7))))
        let plain = try ObjectLockConfiguration.decode("<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>")
        #expect(plain == ObjectLockConfiguration())
        let rule = { (inner: String) in
            self.code { () throws(S3Error) in
                _ = try ObjectLockConfiguration.decode(
                    "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>\(inner)</DefaultRetention></Rule></ObjectLockConfiguration>"
                )
            }
        }
        #expect(rule("<Mode>COMPLIANCE</Mode><Years>1</Years>") == nil)
        #expect(rule("<Mode>COMPLIANCE</Mode><Days>1</Days><Years>1</Years>") == .malformedXML)
        #expect(rule("<Mode>COMPLIANCE</Mode>") == .malformedXML)
        #expect(rule("<Mode>compliance</Mode><Days>1</Days>") == .malformedXML)
        #expect(rule("<Days>1</Days>") == .malformedXML)
        #expect(rule("<Mode>GOVERNANCE</Mode><Days>0</Days>") == .invalidRetentionPeriod)
        #expect(rule("<Mode>GOVERNANCE</Mode><Years>-1</Years>") == .invalidRetentionPeriod)
        #expect(rule("<Mode>GOVERNANCE</Mode><Years>101</Years>") == .invalidRetentionPeriod)
        #expect(code { () throws(S3Error) in
            _ = try ObjectLockConfiguration.decode("<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled></ObjectLockConfiguration>")
        } == .malformedXML)
    }

    @Test func retention() throws {
        let withFraction = try ObjectRetention.decode(
            "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>GOVERNANCE</Mode><RetainUntilDate>2024-01-02T03:04:05.123456Z</RetainUntilDate></Retention>"
        )
        #expect(withFraction.mode == .governance)
        let date = try #require(withFraction.retainUntilDate)
        #expect(abs(date.timeIntervalSince(sampleDate) - 0.123456) < 1e-6)
        let without = try ObjectRetention.decode(
            "<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2024-01-02T03:04:05Z</RetainUntilDate></Retention>"
        )
        #expect(without == ObjectRetention(mode: .compliance, retainUntilDate: sampleDate))
        #expect(try ObjectRetention.decode("<Retention/>") == ObjectRetention(mode: nil, retainUntilDate: nil))
        #expect(code { () throws(S3Error) in
            _ = try ObjectRetention.decode("<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>tomorrow</RetainUntilDate></Retention>")
        } == .malformedXML)
        #expect(code { () throws(S3Error) in
            _ = try ObjectRetention.decode("<Retention><Mode>LOCKED</Mode><RetainUntilDate>2024-01-02T03:04:05Z</RetainUntilDate></Retention>")
        } == .malformedXML)
        #expect(code { () throws(S3Error) in _ = try ObjectRetention.decode("<Retention><Mode>GOVERNANCE</Mode></Retention>") } == .malformedXML)
    }

    @Test func legalHold() throws {
        #expect(try ObjectLegalHold.decode("<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>ON</Status></LegalHold>").status == .on)
        #expect(try ObjectLegalHold.decode("<LegalHold><Status> OFF </Status></LegalHold>").status == .off)
        #expect(code { () throws(S3Error) in _ = try ObjectLegalHold.decode("<LegalHold><Status>on</Status></LegalHold>") } == .malformedXML)
        #expect(code { () throws(S3Error) in _ = try ObjectLegalHold.decode("<LegalHold/>") } == .malformedXML)
    }

    @Test func createBucketConfiguration() throws {
        let config = try CreateBucketConfiguration.decode(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"
        )
        #expect(config.locationConstraint == "eu-west-1")
        #expect(try CreateBucketConfiguration.decodeOptional([]) == nil)
        #expect(try CreateBucketConfiguration.decodeOptional(Array(" \n".utf8)) == nil)
        #expect(try CreateBucketConfiguration.decodeOptional(Array("<CreateBucketConfiguration/>".utf8)) == CreateBucketConfiguration())
        #expect(code { () throws(S3Error) in _ = try CreateBucketConfiguration.decodeOptional(Array("<Bad/>".utf8)) } == .malformedXML)
    }
}
