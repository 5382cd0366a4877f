import UVProxy
print("mini-proxy \(MiniProxyVersion.string)")
