import Providers
public enum MiniProxyVersion { public static let string = "0.1.0" }
