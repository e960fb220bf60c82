// SPDX-License-Identifier: MIT
/*
 * ipc-service — org.varlink.service, which every Varlink service offers:
 * GetInfo and GetInterfaceDescription.  Must not: know io.zcrx.Manager's
 * methods (its description is the text the server was given).
 */
#include <string.h>

#include "ipc-int.h"

static void service_get_info(struct ipc_call *call, json_object *params, void *userdata)
{
	struct ipc_server *s = userdata;
	json_object *r, *ifs;
	static const struct ipc_param spec[] = { IPC_PARAM_END };

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	r = json_object_new_object();
	ifs = json_object_new_array();
	json_object_array_add(ifs, json_object_new_string("org.varlink.service"));
	json_object_array_add(ifs, json_object_new_string("io.zcrx.Manager"));
	json_object_object_add(r, "vendor", json_object_new_string(s->vendor ? s->vendor : ""));
	json_object_object_add(r, "product", json_object_new_string(s->product ? s->product : ""));
	json_object_object_add(r, "version", json_object_new_string(s->version ? s->version : ""));
	json_object_object_add(r, "url", json_object_new_string(s->url ? s->url : ""));
	json_object_object_add(r, "interfaces", ifs);
	ipc_reply(call, r);
}

static const char service_description[] =
	"# The Varlink Service Interface is provided by every varlink service. It\n"
	"# describes the service and the interfaces it implements.\n"
	"interface org.varlink.service\n"
	"\n"
	"method GetInfo() -> (\n"
	"  vendor: string,\n"
	"  product: string,\n"
	"  version: string,\n"
	"  url: string,\n"
	"  interfaces: []string\n"
	")\n"
	"\n"
	"method GetInterfaceDescription(interface: string) -> (description: string)\n"
	"\n"
	"error InterfaceNotFound (interface: string)\n"
	"error MethodNotFound (method: string)\n"
	"error MethodNotImplemented (method: string)\n"
	"error InvalidParameter (parameter: string)\n"
	"error PermissionDenied ()\n"
	"error ExpectedMore ()\n";

static void service_get_description(struct ipc_call *call, json_object *params, void *userdata)
{
	struct ipc_server *s = userdata;
	const char *name = NULL, *text = NULL;
	const struct ipc_param spec[] = {
		{ "interface", IPC_PARAM_STRING, true, &name, NULL },
		IPC_PARAM_END,
	};
	json_object *r;

	if (ipc_params_parse(call, params, spec) < 0)
		return;
	if (!strcmp(name, "org.varlink.service"))
		text = service_description;
	else if (!strcmp(name, "io.zcrx.Manager") && s->description)
		text = s->description;
	if (!text) {
		r = json_object_new_object();
		json_object_object_add(r, "interface", json_object_new_string(name));
		ipc_reply_error(call, "org.varlink.service.InterfaceNotFound", r);
		return;
	}
	r = json_object_new_object();
	json_object_object_add(r, "description", json_object_new_string(text));
	ipc_reply(call, r);
}

static const struct ipc_method service_methods[] = {
	{ "org.varlink.service.GetInfo", 0, service_get_info },
	{ "org.varlink.service.GetInterfaceDescription", 0, service_get_description },
};

int ipc_service_register(struct ipc_server *s)
{
	return ipc_server_add_methods(s, service_methods,
				      sizeof(service_methods) / sizeof(service_methods[0]), s);
}

