import Providers
package enum MiniProxyVersion { package static let string = "0.1.0" }
