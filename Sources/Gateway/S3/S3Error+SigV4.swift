import S3Protocol
import SigV4

extension S3Error {
    /// The S3 error for an authentication or body-decoding failure, keeping its code (every
    /// ``SigV4Error/Code`` is an S3 code) and the detail elements S3 sends with it, such as the
    /// `StringToSign` of `SignatureDoesNotMatch` or the `ExpectedLength` of `IncompleteBody`.
    init(_ error: SigV4Error) {
        self.init(S3ErrorCode(rawValue: error.code.rawValue) ?? .invalidRequest, message: error.message,
                  details: error.details.map { Detail(name: $0.name, value: $0.value) })
    }
}
