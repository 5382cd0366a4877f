#ifndef CYAML_SHIM_H
#define CYAML_SHIM_H
// libyaml's event parser (Debian libyaml-dev, pkg-config yaml-0.1): the config file is composed from
// its events in Swift (Sources/UVProxy/Config/YAMLComposer.swift).
#include <yaml.h>
#endif
