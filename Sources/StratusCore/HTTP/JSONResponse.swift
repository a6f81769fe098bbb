import HTTPTypes
import Hummingbird
import NIOCore

extension Response {
    /// A JSON response with `Content-Type: application/json`.
    public static func json(_ body: JSON, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        json(text: body.serialized(), status: status, headers: headers)
    }

    /// A JSON response from an already serialized document.
    public static func json(text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        json(buffer: ByteBuffer(string: text), status: status, headers: headers)
    }

    /// A JSON response from serialized bytes (a cached document is shared, not copied).
    public static func json(buffer: ByteBuffer, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: buffer))
    }

    /// An empty response (204 No Content by default).
    public static func empty(_ status: HTTPResponse.Status = .noContent, headers: HTTPFields = [:]) -> Response {
        Response(status: status, headers: headers, body: .init())
    }
}

extension Request {
    /// Reads and parses the JSON body, enforcing the size limit in the context.
    ///
    /// - Throws: 413 when the body is larger than the limit, 400 naming the problem when it is not JSON.
    public func jsonBody(limit: Int) async throws -> JSON {
        let buffer: ByteBuffer
        do {
            buffer = try await self.body.collect(upTo: limit)
        } catch {
            throw OpenStackError(.contentTooLarge, "Request is too large.")
        }
        if buffer.readableBytes == 0 {
            throw OpenStackError.badRequest("Malformed request body: the request body is empty; a JSON object is expected.")
        }
        do {
            return try JSON.parse(buffer.readableBytesView)
        } catch {
            throw OpenStackError.badRequest("Malformed request body: the body is not valid JSON (\(error.reason)).")
        }
    }

    /// The value of a header, or nil.
    public func header(_ name: String) -> String? {
        guard let field = HTTPField.Name(name) else { return nil }
        return headers[field]
    }

    /// The query parameters as (name, value) pairs, decoded.
    public var queryItems: [(String, String)] {
        uri.queryParameters.map { (String($0.key), String($0.value)) }
    }

    /// The first value of a query parameter.
    public func query(_ name: String) -> String? {
        uri.queryParameters.get(name)
    }
}
