"""Extension singletons, bound to an app in create_app()."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from peuplade.models.base import Base
from peuplade.replicas import RoutingSession

# The session sends GET requests' reads to a read replica when one is configured.
db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
