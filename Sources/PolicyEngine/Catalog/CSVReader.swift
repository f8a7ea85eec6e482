/// RFC 4180 CSV: fields separated by commas, optionally double-quoted with `""` as an escaped
/// quote; CRLF or LF line ends. Each record keeps the line it starts on and every field's column
/// (its 1-based position in the record) for diagnostics.
struct CSVReader {
    struct Record {
        var line: Int
        var fields: [String]
    }

    enum Failure: Error {
        case unterminatedQuote(line: Int)
        case garbageAfterQuote(line: Int, field: Int)
    }

    static func parse(_ text: String) throws(Failure) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var afterQuote = false
        var quoteStartLine = 1
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var i = 0
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            afterQuote = false
        }
        while i < bytes.count {
            let b = bytes[i]
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(b)
                        i += 1
                    } else {
                        inQuotes = false
                        afterQuote = true
                    }
                } else {
                    if b == UInt8(ascii: "\n") { line += 1 }
                    field.append(b)
                }
            } else {
                switch b {
                case UInt8(ascii: ","):
                    endField()
                case UInt8(ascii: "\r"):
                    break
                case UInt8(ascii: "\n"):
                    endField()
                    if !(fields.count == 1 && fields[0].isEmpty) {
                        records.append(Record(line: recordLine, fields: fields))
                    }
                    fields.removeAll(keepingCapacity: true)
                    line += 1
                    recordLine = line
                case UInt8(ascii: "\"") where field.isEmpty && !afterQuote:
                    inQuotes = true
                    quoteStartLine = line
                default:
                    if afterQuote { throw .garbageAfterQuote(line: line, field: fields.count + 1) }
                    field.append(b)
                }
            }
            i += 1
        }
        if inQuotes { throw .unterminatedQuote(line: quoteStartLine) }
        if !field.isEmpty || !fields.isEmpty || afterQuote {
            endField()
            records.append(Record(line: recordLine, fields: fields))
        }
        return records
    }
}
