import Testing

@testable import Placement

@Suite struct PlacementHTTPTests {
    @Test func httpDatesAreRFC7231() {
        #expect(PlacementHTTP.httpDate(784_887_151) == "Tue, 15 Nov 1994 08:12:31 GMT")
        #expect(PlacementHTTP.httpDate(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(PlacementHTTP.httpDate(1_798_761_600) == "Fri, 01 Jan 2027 00:00:00 GMT")
        #expect(PlacementHTTP.httpDate(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
    }

    @Test func uuidsAreReadAsOsloDoes() {
        #expect(PlacementHTTP.isUUIDLike("0B2D5F4E-9C1A-4F7B-8E3D-2A6C9B1F0E57"))
        #expect(PlacementHTTP.isUUIDLike("0b2d5f4e9c1a4f7b8e3d2a6c9b1f0e57"))
        #expect(!PlacementHTTP.isUUIDLike("not-a-uuid"))
        #expect(PlacementHTTP.canonicalUUID("0B2D5F4E9C1A4F7B8E3D2A6C9B1F0E57") == "0b2d5f4e-9c1a-4f7b-8e3d-2a6c9b1f0e57")
    }
}
