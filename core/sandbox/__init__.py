"""Sandboxes: real servers on loopback that speak a platform's wire protocol.

They ship with tramo (not a test extra) because hosts and plugin authors use
them offline. :class:`Sandbox` is what every one shares (lifecycle, knobs,
faults, time scale, calls seen); :class:`HttpSandbox` serves HTTP APIs,
:class:`SftpSandbox` SFTP and :class:`FtpSandbox` FTP and FTPS.
"""

from tramo.sandbox.base import Call, Fault, Knobs, PlatformView, Profile, RateLimiter, Sandbox
from tramo.sandbox.ftp import FtpSandbox
from tramo.sandbox.http import HttpSandbox, Request, Response, json_response, retry_after_header
from tramo.sandbox.sftp import SftpSandbox
from tramo.sandbox.soap import SoapFault, SoapOperation, SoapSandbox, SoapService, wsdl

__all__ = ["Call", "Fault", "FtpSandbox", "HttpSandbox", "Knobs", "PlatformView", "Profile", "RateLimiter", "Request", "Response",
           "Sandbox", "SftpSandbox", "SoapFault", "SoapOperation", "SoapSandbox", "SoapService",
           "json_response", "retry_after_header", "wsdl"]
